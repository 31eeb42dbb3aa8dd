import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { discardContent } from "../content/discardContent";
import { guessContentType, isMediaType, isUnsafeInline } from "../content/guessContentType";
import { toDriverBody } from "../content/toDriverBody";
import { checkUploadLimits, isAccepted, sizeLimit } from "../content/uploadLimits";
import { FileNotFoundError } from "../errors/FileNotFoundError";
import { isFileStorageError } from "../errors/FileStorageError";
import { FileValidationError } from "../errors/FileValidationError";
import { InvalidKeyError } from "../errors/InvalidKeyError";
import { StorageConfigError } from "../errors/StorageConfigError";
import { type StorageOperation, StorageOperationError } from "../errors/StorageOperationError";
import { getAlternativeName, keyLength, splitKey } from "../keys/getAlternativeName";
import { getAvailableOverwriteName } from "../keys/getAvailableOverwriteName";
import { getValidName } from "../keys/getValidName";
import { normalizeKey } from "../keys/normalizeKey";
import { validateKey } from "../keys/validateKey";
import type {
  ByteRange,
  DriverBody,
  DriverUploadOptions,
  DriverUploadRequest,
  FileContent,
  ListResult,
  ObjectStat,
  StorageDriver,
  StorageSaveOptions,
  StoredObject,
  UploadedPart,
  UploadPart,
  UrlOptions,
} from "../types";

/** Options every storage understands, whatever its driver. */
export interface StorageOptions {
  /**
   * Replace an existing object when saving under a taken key (default false: a new name is chosen,
   * as Django does; overwriting silently loses data).
   */
  fileOverwrite?: boolean;
  /**
   * Serve html, svg and xml inline (default false: they are stored and served with
   * `Content-Disposition: attachment`, so an upload cannot run script on your origin).
   */
  allowUnsafeInline?: boolean;
}

/** The longest a direct-upload URL lives by default, in seconds: the PUT must start before. */
export const DEFAULT_UPLOAD_EXPIRES_IN = 600;
/** The longest a direct-upload URL may live (S3's limit for presigned URLs, on every storage). */
export const MAX_UPLOAD_EXPIRES_IN = 7 * 24 * 3600;

/** Options of `Storage.createUpload()`. */
export interface CreateUploadOptions {
  /** The exact size of the file in bytes, as the uploader declares it; the URL takes no other. */
  size: number;
  /**
   * Content type to store (default, and for "", which browsers report for types they do not know: the
   * storage's setting for the name, else guessed from the name). It must be one media type. Local disk
   * stores none and serves the type the name gives, so there this is ignored.
   */
  contentType?: string;
  /** Seconds the URL stays valid (default 600); the upload must start before. */
  expiresIn?: number;
  /** Let the upload replace an existing object (defaults to the storage's `fileOverwrite`). */
  overwrite?: boolean;
  /** Longest key allowed; an alternative name is truncated to fit. */
  maxLength?: number;
  /** Largest size accepted, in bytes (`FileValidationError`, rule `maxSize`). */
  maxSize?: number;
  /** Content types and extensions accepted, as for `save()` (`FileValidationError`, rule `accept`). */
  accept?: readonly string[];
  /** `Content-Disposition` to store; `null` for none. Defaults to `attachment` for html, svg and xml. */
  contentDisposition?: string | null;
}

/** Options of `Storage.createMultipartUpload()`. */
export interface CreateMultipartUploadOptions extends CreateUploadOptions {
  /** Bytes per part, 5 MiB to 5 GiB (default 8 MiB, or more to keep within 10,000 parts). */
  partSize?: number;
}

/** An upload in parts the uploader sends itself (`Storage.createMultipartUpload`). */
export interface MultipartUpload {
  key: string;
  /** Names the upload for `completeMultipartUpload` and `abortMultipartUpload`. */
  uploadId: string;
  size: number;
  contentType: string;
  partSize: number;
  /** The `Content-Encoding` the object is created with (from the storage's settings), or null. */
  contentEncoding: string | null;
  /** One signed PUT per part, in order; each answers the part's `ETag`. */
  parts: UploadPart[];
  /** When the part URLs stop working. */
  expiresAt: Date;
}

/** What `#planUpload` decided, before any I/O. */
interface UploadPlan {
  key: string;
  /** The name to try first (shortened to `maxLength`). */
  first: string;
  size: number;
  maxLength: number | undefined;
  driverOptions: DriverUploadOptions;
}

const MiB = 1024 * 1024;

/** How a failed operation reads in "Could not … "key"": the operations whose name is no verb of the key. */
const VERBS: Partial<Record<StorageOperation, string>> = { exists: "check for", url: "build the URL of" };
const MIN_PART_SIZE = 5 * MiB;
const MAX_PART_SIZE = 5 * 1024 * MiB;
const DEFAULT_PART_SIZE = 8 * MiB;
const MAX_PARTS = 10_000;
const MAX_OBJECT_SIZE = 5 * 1024 * 1024 * MiB;

/** S3's errors for parts that are not the ones sent, in the uploader's words. */
const PART_REFUSALS: Record<string, string> = {
  InvalidPart: "a part is missing, or its ETag is not the one its PUT answered",
  InvalidPartOrder: "the parts are not in ascending order",
  EntityTooSmall: "a part other than the last is under 5 MiB",
  NoSuchUpload: "the upload was aborted, completed already, or never begun",
  PreconditionFailed: "a file took the name meanwhile",
};

/** The parts as the completion takes them, or why not: numbers from 1 ascending, each with an ETag. */
function checkParts(parts: readonly UploadedPart[]): UploadedPart[] | string {
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > MAX_PARTS)
    return `send the parts as a list of 1 to ${MAX_PARTS} { partNumber, etag }`;
  const checked: UploadedPart[] = [];
  for (const part of parts) {
    const { partNumber, etag } = (part ?? {}) as Partial<UploadedPart>;
    if (!Number.isSafeInteger(partNumber) || (partNumber as number) < 1 || (partNumber as number) > MAX_PARTS)
      return `part numbers run from 1 to ${MAX_PARTS}, not ${JSON.stringify(partNumber)}`;
    if (typeof etag !== "string" || !/^"?[\x21\x23-\x7e]{1,128}"?$/.test(etag))
      return `part ${partNumber} needs the ETag its PUT answered`;
    if (checked.length > 0 && (partNumber as number) <= checked[checked.length - 1].partNumber)
      return "the parts must be listed in ascending order, each once";
    checked.push({ partNumber: partNumber as number, etag });
  }
  return checked;
}

/** A signed request for one upload straight to the storage (`Storage.createUpload`). */
export interface DirectUpload extends DriverUploadRequest {
  /** Where the file will be: free when the URL was made; without overwrite the upload never replaces a file. */
  key: string;
  size: number;
  contentType: string;
  /** When the URL stops accepting uploads (sooner than `expiresIn` when S3 credentials expire first). */
  expiresAt: Date;
}

/**
 * The facade every storage is: it owns key policy (validation, valid and available names), content
 * normalisation and error wrapping, and hands raw bytes to its driver. Subclasses (`S3Storage`,
 * `FileSystemStorage`, `InMemoryStorage`) only choose the driver.
 */
export class Storage {
  /** The name this storage is registered under (set by `storages.configure`), for messages. */
  name: string | null = null;
  readonly #driver: StorageDriver;
  readonly #fileOverwrite: boolean;
  readonly #allowUnsafeInline: boolean;
  #ready: Promise<void> | null = null;

  constructor(driver: StorageDriver, options: StorageOptions = {}) {
    this.#driver = driver;
    this.#fileOverwrite = options.fileOverwrite ?? false;
    this.#allowUnsafeInline = options.allowUnsafeInline ?? false;
  }

  /** The backend behind this storage. */
  get driver(): StorageDriver {
    return this.#driver;
  }

  /** Whether saving under a taken key replaces the object (the `fileOverwrite` option). */
  get fileOverwrite(): boolean {
    return this.#fileOverwrite;
  }

  #label(): string {
    return this.name ? `storage "${this.name}"` : `${this.#driver.kind} storage`;
  }

  #key(key: string): string {
    return validateKey(key, this.name);
  }

  /**
   * `name` checked as a key, and the name to try first: `name`, or when longer than `maxLength`, the
   * name `firstName` shortens it to. A name shortened anyway may be over the byte limit (a client's
   * filename of any length, as Django truncates it); the shortened one may not.
   */
  #names(name: string, maxLength: number | undefined, overwrite: boolean): { key: string; first: string } {
    const shortened = maxLength !== undefined && typeof name === "string" && keyLength(name) > maxLength;
    const key = validateKey(name, this.name, !shortened);
    const first = firstName(key, maxLength, overwrite);
    return { key, first: shortened ? this.#key(first) : first };
  }

  async #run<T>(operation: StorageOperation, key: string | null, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.#wrap(operation, key, error);
    }
  }

  #wrap(operation: StorageOperation, key: string | null, error: unknown): Error {
    if (isFileStorageError(error)) return error;
    if ((error as Error)?.name === "AbortError") return error as Error;
    const what = key === null ? "" : ` ${JSON.stringify(key)}`;
    const reason = error instanceof Error ? error.message : String(error);
    const advice = this.#driver.explain?.(error, operation) ?? null;
    const end = advice === null ? "" : `${/[.!?]$/.test(reason) ? "" : "."} ${advice}`;
    const message = `Could not ${VERBS[operation] ?? operation}${what} on ${this.#label()}: ${reason}${end}`;
    return new StorageOperationError(operation, message, {
      key,
      storage: this.name,
      cause: error,
    });
  }

  #notFound(key: string): FileNotFoundError {
    return new FileNotFoundError(`No file ${JSON.stringify(key)} in ${this.#label()}.`, { key, storage: this.name });
  }

  /**
   * Stores `content` under `name` (or an available variant of it) and resolves with the key actually
   * used. Throws `InvalidKeyError` for a bad name, `StorageOperationError` for unsupported content or
   * when the backend fails; on failure or abort nothing is left behind.
   */
  async save(name: string, content: FileContent, options: StorageSaveOptions = {}): Promise<string> {
    const overwrite = options.overwrite ?? this.#fileOverwrite;
    let key: string;
    let first: string;
    try {
      ({ key, first } = this.#names(name, options.maxLength, overwrite));
      // before the content is opened: a bad limit must not leave a file handle behind
      if (options.maxSize !== undefined || options.accept !== undefined)
        checkUploadLimits("save()", options.maxSize, options.accept);
      // a type given explicitly is often the browser's, passed on: "image/png, text/html" would pass an
      // `accept` of image/* by its first entry, and browsers read such a list by its last
      if (options.contentType !== undefined && !isMediaType(options.contentType))
        throw new FileValidationError(
          `Cannot save ${JSON.stringify(key)}: ${JSON.stringify(options.contentType)} is not one content type ` +
            '(like "image/png"); nothing was stored. Leave contentType out to use the type the name gives.',
          { rule: "accept", key, storage: this.name },
        );
    } catch (error) {
      // refused before reading it: the caller's stream (a request body, a file) is closed all the same
      discardContent(content);
      throw error;
    }
    let info: Awaited<ReturnType<typeof toDriverBody>>;
    try {
      info = await toDriverBody(content);
    } catch (error) {
      throw new StorageOperationError("save", `Cannot save ${JSON.stringify(key)}: ${(error as Error).message}`, {
        key,
        storage: this.name,
        cause: error,
      });
    }
    // the content's own type is the uploader's claim (a multer file, a Blob): a malformed one is ignored
    const claimed = info.contentType !== null && isMediaType(info.contentType) ? info.contentType : null;
    // on disk the file is served with the type its name gives, whatever the uploader declares: checked as such
    const contentType = this.#driver.typeFromName
      ? guessContentType(first)
      : (options.contentType ?? this.#driver.configuredContentType?.(first) ?? claimed ?? guessContentType(first));
    const contentDisposition = this.#disposition(contentType, options.contentDisposition);
    let exceeded: FileValidationError | null = null;
    const limited = this.#limit(key, first, contentType, info.body, options, (error) => {
      exceeded = error;
    });
    const body = withProgress(limited, options.onProgress);
    const result = await this.#run("save", key, () =>
      this.#driver.write(first, body, {
        contentType,
        contentDisposition,
        overwrite,
        // from the name asked for, never from a taken alternative (Django's file_root): no "_XXXXXXX_YYYYYYY"
        alternativeKey: () => getAlternativeName(key, options.maxLength),
        signal: options.signal,
      }),
    ).catch((error: unknown) => {
      // the size limit stopped a stream: whatever the driver made of that, the cause is the limit
      throw exceeded ?? error;
    });
    if (body.kind === "buffer") options.onProgress?.(result.size);
    return result.key;
  }

  /**
   * Signs a request that uploads one file of `options.size` bytes straight to the storage, so it never
   * passes through the application: a presigned PUT on S3, a signed PUT that `serveFiles` accepts on
   * local disk. The key is chosen as `save()` chooses it (`name`, or an alternative when taken: one
   * existence check), `accept` and `maxSize` are applied to the declared type and size, and the URL
   * carries the storage's settings for the object (ACL, cache, encryption, metadata), signed with the
   * size, so the uploader can change none of them. Nothing is written. Throws `FileValidationError`
   * (rules `size`, `accept`, `maxSize`), `InvalidKeyError`, and `StorageConfigError` when the storage
   * cannot take direct uploads (disk without a signing secret; an S3 customer key). In memory,
   * `InMemoryStorage.put` plays the browser's part.
   * `FieldFile.createUpload` adds the ticket that attaches the file to a row afterwards.
   */
  async createUpload(name: string, options: CreateUploadOptions): Promise<DirectUpload> {
    const plan = this.#planUpload(name, options);
    const presign = this.#driver.presignUpload?.bind(this.#driver);
    if (presign === undefined) throw this.#noDirectUploads(plan.key, "take direct uploads");
    return this.#run("upload", plan.key, async () => {
      const key = await this.#freeName(plan);
      const request = await presign(key, plan.driverOptions);
      return { ...request, key, size: plan.size, contentType: plan.driverOptions.contentType };
    });
  }

  /**
   * Like `createUpload`, for a file sent in parts (S3 only: one PUT takes at most 5 GiB, and parts can
   * be sent in parallel and retried one by one): begins a multipart upload with the object's settings
   * and signs one PUT per part of `partSize` bytes (default 8 MiB, raised to keep within 10,000 parts),
   * each for exactly its part's size. The uploader sends every part, keeps each `ETag`, and
   * `completeMultipartUpload` joins them. Throws as `createUpload` does, `RangeError` for a part size
   * outside 5 MiB–5 GiB or too small for 10,000 parts, and `StorageConfigError` on disk and in memory,
   * which take any size in one `createUpload`.
   */
  async createMultipartUpload(name: string, options: CreateMultipartUploadOptions): Promise<MultipartUpload> {
    const plan = this.#planUpload(name, options);
    if (plan.size > MAX_OBJECT_SIZE)
      throw new FileValidationError(
        `Cannot upload ${JSON.stringify(plan.key)}: it is ${bytes(plan.size)}, and an S3 object holds at most 5 TiB; nothing was stored.`,
        { rule: "size", key: plan.key, storage: this.name },
      );
    const partSize = options.partSize ?? Math.max(DEFAULT_PART_SIZE, Math.ceil(plan.size / MAX_PARTS / MiB) * MiB);
    if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE)
      throw new RangeError(`createMultipartUpload(): partSize must be a whole number of bytes from 5 MiB to 5 GiB.`);
    if (Math.ceil(plan.size / partSize) > MAX_PARTS)
      throw new RangeError(
        `createMultipartUpload(): ${plan.size} bytes in parts of ${partSize} would be more than ${MAX_PARTS} parts; ` +
          `use parts of at least ${Math.ceil(plan.size / MAX_PARTS)} bytes.`,
      );
    const presign = this.#driver.presignMultipartUpload?.bind(this.#driver);
    if (presign === undefined)
      throw this.#noDirectUploads(plan.key, "take uploads in parts (createUpload takes any size)");
    return this.#run("upload", plan.key, async () => {
      const key = await this.#freeName(plan);
      const upload = await presign(key, { ...plan.driverOptions, partSize });
      return { ...upload, key, size: plan.size, contentType: plan.driverOptions.contentType, partSize };
    });
  }

  /**
   * Joins the parts of an upload from `createMultipartUpload` into the object, never over an existing
   * one unless `overwrite`. Throws `FileValidationError` (rule `upload`) when the parts are not the ones
   * sent (a wrong ETag or number, a part too small, an upload aborted or unknown) or the name was taken,
   * `StorageOperationError` for any other failure.
   */
  async completeMultipartUpload(
    name: string,
    uploadId: string,
    parts: readonly UploadedPart[],
    options: { overwrite?: boolean } = {},
  ): Promise<void> {
    const key = this.#key(name);
    const refuse = (why: string, cause?: unknown) =>
      new FileValidationError(`Cannot complete the upload of ${JSON.stringify(key)}: ${why}.`, {
        rule: "upload",
        key,
        storage: this.name,
        cause,
      });
    const checked = checkParts(parts);
    if (typeof checked === "string") throw refuse(checked);
    const complete = this.#driver.completeMultipartUpload?.bind(this.#driver);
    if (complete === undefined || typeof uploadId !== "string" || uploadId === "")
      throw refuse("this storage began no upload in parts under that id");
    await this.#run("upload", key, () =>
      complete(key, uploadId, checked, options.overwrite ?? this.#fileOverwrite).catch((error: unknown) => {
        const why = PART_REFUSALS[(error as { name?: string })?.name ?? ""];
        throw why === undefined ? error : refuse(why, error);
      }),
    );
  }

  /**
   * Signs again the part URLs of an upload from `createMultipartUpload` (all, or `partNumbers`), for
   * `expiresIn` seconds (default 600): a large upload outlives its first URLs, or a part must be sent
   * again. `size` and `partSize` are the upload's. No request to the store. Throws `RangeError` for
   * part numbers outside the upload, `StorageConfigError` where uploads do not go in parts.
   */
  async signUploadParts(
    name: string,
    uploadId: string,
    options: { size: number; partSize: number; partNumbers?: readonly number[]; expiresIn?: number },
  ): Promise<{ parts: UploadPart[]; expiresAt: Date }> {
    const key = this.#key(name);
    const { size, partSize } = options;
    const count = Math.max(1, Math.ceil(size / partSize));
    const partNumbers = options.partNumbers ?? Array.from({ length: count }, (_, i) => i + 1);
    if (partNumbers.length === 0 || partNumbers.some((n) => !Number.isSafeInteger(n) || n < 1 || n > count))
      throw new RangeError(`signUploadParts(): list part numbers from 1 to ${count}.`);
    const expiresIn = options.expiresIn ?? DEFAULT_UPLOAD_EXPIRES_IN;
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_UPLOAD_EXPIRES_IN)
      throw new RangeError(
        `signUploadParts(): expiresIn must be a whole number of seconds from 1 to ${MAX_UPLOAD_EXPIRES_IN}.`,
      );
    const sign = this.#driver.presignUploadParts?.bind(this.#driver);
    if (sign === undefined) throw this.#noDirectUploads(key, "take uploads in parts");
    return this.#run("upload", key, () => sign(key, uploadId, { size, partSize, partNumbers, expiresIn }));
  }

  /** Drops an upload in parts that will not be completed, and the parts sent so far. */
  async abortMultipartUpload(name: string, uploadId: string): Promise<void> {
    const key = this.#key(name);
    const abort = this.#driver.abortMultipartUpload?.bind(this.#driver);
    if (abort !== undefined && typeof uploadId === "string" && uploadId !== "")
      await this.#run("upload", key, () => abort(key, uploadId));
  }

  /** The disposition given, else `attachment` for types a browser could run (unless `allowUnsafeInline`). */
  #disposition(contentType: string, given: string | null | undefined): string | null {
    if (given !== undefined) return given;
    return !this.#allowUnsafeInline && isUnsafeInline(contentType) ? "attachment" : null;
  }

  #noDirectUploads(key: string, what: string): StorageConfigError {
    return new StorageConfigError(
      `${this.#label()} cannot ${what}: a ${this.#driver.kind} storage does not. Upload through save(), or use a ` +
        "disk or S3 storage.",
      { key, storage: this.name },
    );
  }

  /**
   * The checks and choices of a direct upload, before any I/O: a valid key, the size, the lifetime, the
   * type (on disk, the one the name gives), `accept` and `maxSize`, and the disposition.
   */
  #planUpload(name: string, options: CreateUploadOptions): UploadPlan {
    const { size, maxLength, maxSize, accept } = options;
    const overwrite = options.overwrite ?? this.#fileOverwrite;
    const { key, first } = this.#names(name, maxLength, overwrite);
    if (maxSize !== undefined || accept !== undefined) checkUploadLimits("createUpload()", maxSize, accept);
    const expiresIn = options.expiresIn ?? DEFAULT_UPLOAD_EXPIRES_IN;
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_UPLOAD_EXPIRES_IN)
      throw new RangeError(
        `createUpload(): expiresIn must be a whole number of seconds from 1 to ${MAX_UPLOAD_EXPIRES_IN} (7 days), got ${expiresIn}.`,
      );
    const refuse = (rule: "size" | "accept" | "maxSize", why: string) =>
      new FileValidationError(`Cannot upload ${JSON.stringify(key)}: ${why}; nothing was stored.`, {
        rule,
        key,
        storage: this.name,
      });
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0)
      throw refuse("size", `its size must be a whole number of bytes, not ${JSON.stringify(size)}`);
    // on disk the file will be served with the type its name gives, whatever the uploader declares
    const contentType = this.#driver.typeFromName
      ? guessContentType(first)
      : // a browser reports "" for a type it does not know: not declared, guessed from the name
        options.contentType || this.#driver.configuredContentType?.(first) || guessContentType(first);
    if (typeof contentType !== "string" || !isMediaType(contentType))
      throw refuse("accept", `${JSON.stringify(contentType)} is not one content type (like "image/png")`);
    if (accept !== undefined && !isAccepted(accept, first, contentType))
      throw refuse(
        "accept",
        `${contentType} files${extensionOf(first)} are not accepted here; upload ${accept.join(", ")}`,
      );
    if (maxSize !== undefined && size > maxSize)
      throw refuse("maxSize", `it is ${bytes(size)}, over the ${bytes(maxSize)} allowed`);
    const contentDisposition = this.#disposition(contentType, options.contentDisposition);
    return {
      key,
      first,
      size,
      maxLength,
      driverOptions: { size, contentType, contentDisposition, overwrite, expiresIn },
    };
  }

  /** The planned name, or a free alternative: the URL cannot pick another when the upload finds it taken. */
  async #freeName(plan: UploadPlan): Promise<string> {
    await this.ready();
    let candidate = plan.first;
    for (let tries = 0; !plan.driverOptions.overwrite && (await this.#found(candidate)); tries++) {
      if (tries === 16) throw new Error("16 alternative names in a row were taken.");
      candidate = getAlternativeName(plan.key, plan.maxLength);
    }
    return candidate;
  }

  /**
   * Makes a direct upload that arrived permanent, before a row takes it: on S3 with `pendingUploadTag`,
   * removes the tag a lifecycle rule expires abandoned uploads by; elsewhere nothing. `attachUpload`
   * calls it. Throws `StorageOperationError` when the backend refuses (s3:PutObjectTagging).
   */
  async confirmUpload(name: string): Promise<void> {
    await this.#confirm(name, false);
  }

  /**
   * Undoes `confirmUpload` for a direct upload whose row did not commit (a failed save, a rollback): on
   * S3 with `pendingUploadTag` the tag goes back on, so the lifecycle rule expires it if its ticket is
   * never attached again. `attachUpload` and the subscriber call it, best effort.
   */
  async reopenUpload(name: string): Promise<void> {
    await this.#confirm(name, true);
  }

  async #confirm(name: string, pending: boolean): Promise<void> {
    const key = this.#key(name);
    const confirm = this.#driver.confirmUpload;
    if (confirm !== undefined) await this.#run("upload", key, () => confirm.call(this.#driver, key, pending));
  }

  /**
   * Applies `accept` and `maxSize` before any byte is written: throws `FileValidationError` (closing the
   * content) for a refused type or a known size over the limit, and puts every stream through
   * `sizeLimit`, which fails the write past the limit (reported through `onExceeded`).
   */
  #limit(
    key: string,
    name: string,
    contentType: string,
    body: DriverBody,
    options: StorageSaveOptions,
    onExceeded: (error: FileValidationError) => void,
  ): DriverBody {
    const { accept, maxSize } = options;
    if (accept === undefined && maxSize === undefined) return body;
    const refuse = (rule: "accept" | "maxSize", why: string) => {
      if (body.kind === "stream") body.stream.destroy();
      return new FileValidationError(`Cannot save ${JSON.stringify(key)}: ${why}; nothing was stored.`, {
        rule,
        key,
        storage: this.name,
      });
    };
    if (accept !== undefined && !isAccepted(accept, name, contentType))
      throw refuse(
        "accept",
        `${contentType} files${extensionOf(name)} are not accepted here; upload ${accept.join(", ")}`,
      );
    if (maxSize === undefined || body.kind === "buffer") {
      if (body.kind === "buffer" && maxSize !== undefined && body.buffer.length > maxSize)
        throw refuse("maxSize", `it is ${bytes(body.buffer.length)}, over the ${bytes(maxSize)} allowed`);
      return body;
    }
    if (body.length !== null && body.length > maxSize)
      throw refuse("maxSize", `it is ${bytes(body.length)}, over the ${bytes(maxSize)} allowed`);
    // A declared length is checked, and the bytes are counted all the same: a file's size from stat()
    // can be 0 (a FIFO, /proc) or grow while it is read.
    const stream = body.stream;
    const limiter = sizeLimit(maxSize, () => {
      const error = new FileValidationError(
        `Cannot save ${JSON.stringify(key)}: it is over the ${bytes(maxSize)} allowed; nothing was stored.`,
        { rule: "maxSize", key, storage: this.name },
      );
      onExceeded(error);
      return error;
    });
    pipeline(stream, limiter).catch((error) => limiter.destroy(error));
    return { kind: "stream", stream: limiter, length: body.length };
  }

  /** Resolves with a stream of the object's bytes (or of `range`); throws `FileNotFoundError` when missing. */
  async open(name: string, range?: ByteRange): Promise<Readable> {
    const key = this.#key(name);
    checkRange(range, key, this.name);
    const stream = await this.#run("read", key, () => this.#driver.open(key, range));
    if (stream === null) throw this.#notFound(key);
    return stream;
  }

  /** Resolves with the object's bytes (or those of the inclusive `range`); throws `FileNotFoundError`. */
  async read(name: string, range?: ByteRange): Promise<Buffer> {
    const stream = await this.open(name, range);
    return this.#run("read", name, async () => {
      const parts: Buffer[] = [];
      for await (const chunk of stream) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      return Buffer.concat(parts);
    });
  }

  /** Resolves with size, content type, modification time and ETag in one request; throws `FileNotFoundError`. */
  async stat(name: string): Promise<ObjectStat> {
    const key = this.#key(name);
    const stat = await this.#run("stat", key, () => this.#driver.stat(key));
    if (stat === null) throw this.#notFound(key);
    return stat;
  }

  /** Resolves with the object's size in bytes (the original size, even when stored compressed). */
  async size(name: string): Promise<number> {
    return (await this.stat(name)).size;
  }

  /** Resolves with the object's last modification time. */
  async getModifiedTime(name: string): Promise<Date> {
    return (await this.stat(name)).lastModified;
  }

  /** Resolves with true when the object exists, false when it does not; other failures throw. */
  async exists(name: string): Promise<boolean> {
    const key = this.#key(name);
    return this.#run("exists", key, () => this.#found(key));
  }

  /** Deletes the object; deleting a missing object is not an error. */
  async delete(name: string): Promise<void> {
    const key = this.#key(name);
    await this.#run("delete", key, () => this.#driver.delete(key));
  }

  /**
   * Lists the immediate directories and files under `prefix` ("" for the root), both relative to it,
   * each sorted as `listAll` sorts (by UTF-16 code units; S3 itself lists by UTF-8 bytes).
   */
  async listdir(prefix = ""): Promise<ListResult> {
    const normalized = prefix.replace(/\/+$/, "");
    if (normalized !== "") this.#key(normalized);
    const dir = normalized === "" ? "" : `${normalized}/`;
    const { directories, files } = await this.#run("list", dir, () => this.#driver.list(dir));
    return { directories: directories.sort(byName), files: files.sort(byName) };
  }

  /**
   * Whether a `save()` of `name` may have stored it compressed (S3 with `gzip`), so that a listing's
   * `storedSize` and `md5` describe other bytes than the file's. False here: memory and disk store
   * the bytes as given. Never throws, makes no request.
   */
  mayCompress(_name: string): boolean {
    return false;
  }

  /**
   * Every object under `prefix` ("" for the whole storage), at any depth, sorted by name, with its
   * stored size, modification time and, where the backend reports it, MD5: one paginated listing on
   * S3, no request per object.
   */
  async listAll(prefix = ""): Promise<StoredObject[]> {
    const normalized = prefix.replace(/\/+$/, "");
    if (normalized !== "") this.#key(normalized);
    const dir = normalized === "" ? "" : `${normalized}/`;
    const found = await this.#run("list", dir, () =>
      this.#driver.listAll ? this.#driver.listAll(dir) : this.#walk(dir),
    );
    return found.sort((a, b) => byName(a.name, b.name));
  }

  /** Whether the driver holds `key`: its own `exists` when it has one, else a `stat`. */
  async #found(key: string): Promise<boolean> {
    return this.#driver.exists ? this.#driver.exists(key) : (await this.#driver.stat(key)) !== null;
  }

  /** `listAll` for a driver without one: `list` per directory and `stat` per object. */
  async #walk(dir: string): Promise<StoredObject[]> {
    const { directories, files } = await this.#driver.list(dir);
    const found: StoredObject[] = [];
    for (const file of files) {
      const stat = await this.#driver.stat(dir + file);
      if (stat) found.push({ name: dir + file, storedSize: stat.size, lastModified: stat.lastModified, md5: null });
    }
    for (const sub of directories) found.push(...(await this.#walk(`${dir}${sub}/`)));
    return found;
  }

  /**
   * Returns the URL of `name` synchronously, without touching the network: public, presigned, CDN or
   * signed-local, depending on the storage. Throws `StorageConfigError` when a signed URL needs
   * credentials that `storages.ready()` has not resolved yet.
   */
  url(name: string, options: UrlOptions = {}): string {
    const key = this.#key(name);
    try {
      return this.#driver.url(key, options);
    } catch (error) {
      throw this.#wrap("url", key, error);
    }
  }

  /** The local path of `name`, for storages on disk; throws `StorageConfigError` elsewhere. */
  path(name: string): string {
    const key = this.#key(name);
    if (!this.#driver.path) {
      throw new StorageConfigError(
        `${this.#label()} has no local paths (it is ${this.#driver.kind}): read the file with open() or read(), ` +
          "or use a FileSystemStorage.",
        { key, storage: this.name },
      );
    }
    return this.#driver.path(key);
  }

  /** Reduces a user filename to a safe basename (Django's `get_valid_name`). */
  getValidName(filename: string): string {
    return getValidName(filename);
  }

  /**
   * Cleans the last segment of `filename` with `getValidName` and keeps its directory, `\\` read as `/`
   * and empty and `.` segments dropped (Django's `generate_filename`: `a//b` and `./a` are `a/b` and
   * `a`). Throws `InvalidKeyError` for `..` segments, an absolute path, and whatever else `validateKey`
   * refuses.
   */
  generateFilename(filename: string): string {
    const path = String(filename).replace(/\\/g, "/");
    const [dir] = splitKey(path);
    return this.#key(normalizeKey(`${dir}${this.getValidName(path.slice(dir.length))}`));
  }

  /**
   * Resolves with `name` when it is free, else with `name` plus `_` and 7 random characters, truncated
   * to `maxLength` (Django's `get_available_name`). On a storage with `fileOverwrite` every name is
   * available: it resolves with `name`, its stem shortened to `maxLength` (django-storages'
   * `get_available_overwrite_name`), the key `save()` replaces. `save()` does not need it: it writes
   * conditionally.
   */
  async getAvailableName(name: string, maxLength?: number): Promise<string> {
    let { first: candidate } = this.#names(name, maxLength, this.#fileOverwrite);
    if (this.#fileOverwrite) return candidate;
    while (await this.exists(candidate)) candidate = this.#key(getAlternativeName(name, maxLength));
    return candidate;
  }

  /** Resolves credentials and anything else `url()` needs; makes no request to the object store. */
  ready(): Promise<void> {
    this.#ready ??= this.#run("url", null, async () => this.#driver.ready?.()).catch((error) => {
      this.#ready = null;
      throw error;
    });
    return this.#ready;
  }

  /** Releases the driver's sockets and timers. */
  async close(): Promise<void> {
    await this.#driver.close?.();
  }
}

/**
 * The name to try first: `key`, or when longer than `maxLength`, as Django shortens it: an overwriting
 * storage shortens the stem, another tries an alternative name that fits.
 */
function firstName(key: string, maxLength: number | undefined, overwrite: boolean): string {
  if (maxLength === undefined || keyLength(key) <= maxLength) return key;
  return overwrite ? getAvailableOverwriteName(key, maxLength) : getAlternativeName(key, maxLength);
}

/** Names in UTF-16 code unit order (`Array.prototype.sort`'s), the same on every storage. */
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const bytes = (n: number) => `${n} byte${n === 1 ? "" : "s"}`;

function extensionOf(name: string): string {
  const ext = name.slice(name.lastIndexOf("/") + 1).match(/\.[^.]+$/)?.[0];
  return ext ? ` (${ext})` : "";
}

function checkRange(range: ByteRange | undefined, key: string, storage: string | null): void {
  if (range === undefined) return;
  const ok =
    Number.isInteger(range.start) &&
    range.start >= 0 &&
    (range.end === undefined || (Number.isInteger(range.end) && range.end >= range.start));
  if (!ok) {
    throw new InvalidKeyError(
      `Invalid byte range ${JSON.stringify(range)} for ${JSON.stringify(key)}: start and end are inclusive ` +
        "non-negative integers with start <= end.",
      { key, storage },
    );
  }
}

function withProgress(body: DriverBody, onProgress?: (bytes: number) => void): DriverBody {
  if (!onProgress || body.kind === "buffer") return body;
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.length;
      onProgress(sent);
      callback(null, chunk);
    },
  });
  pipeline(body.stream, counter).catch((error) => counter.destroy(error));
  return { kind: "stream", stream: counter, length: body.length };
}

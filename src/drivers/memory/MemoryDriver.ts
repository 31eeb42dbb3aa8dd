import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { assertAnnouncedLength } from "../../content/assertAnnouncedLength";
import { encodeKeyPath } from "../../http/encodeKeyPath";
import { checkContentTypeOverride, checkExpiresIn } from "../../http/UrlSigner";
import type {
  ByteRange,
  DriverBody,
  DriverUploadOptions,
  DriverUploadRequest,
  DriverWriteOptions,
  DriverWriteResult,
  ListResult,
  ObjectStat,
  StorageDriver,
  StoredObject,
  UrlOptions,
} from "../../types";

/** Options of the in-memory driver. */
export interface MemoryDriverOptions {
  /** Prefix of every URL (default `/media/`); a trailing `/` is added when missing. */
  baseUrl?: string;
}

/** A direct upload signed by `presignUpload`, waiting for `receiveUpload`. */
interface PendingUpload extends DriverUploadOptions {
  key: string;
  expiresAt: number;
  /** What the request must carry, exactly (S3 refuses a request missing a signed header). */
  headers: Record<string, string>;
}

interface MemoryObject {
  bytes: Buffer;
  contentType: string;
  contentDisposition: string | null;
  lastModified: Date;
  etag: string;
}

/**
 * Keeps objects in a `Map` inside the process: for tests and `storages.fake()`. Writes are atomic
 * (the body is consumed whole before the key is claimed), so a no-overwrite save never replaces
 * an object, even when several race for one key.
 */
export class MemoryDriver implements StorageDriver {
  readonly kind = "memory";
  /** Nothing serves memory URLs, so they reveal nothing. */
  readonly publicUrls = false;
  readonly #objects = new Map<string, MemoryObject>();
  readonly #uploads = new Map<string, PendingUpload>();
  readonly #baseUrl: string;

  constructor(options: MemoryDriverOptions = {}) {
    const base = options.baseUrl ?? "/media/";
    this.#baseUrl = base.endsWith("/") ? base : `${base}/`;
  }

  /** Resolves with the key used and the byte count; rejects with an `AbortError` when `signal` fires. */
  async write(key: string, body: DriverBody, options: DriverWriteOptions): Promise<DriverWriteResult> {
    if (options.signal?.aborted) {
      // the content is never read: release it (a file's descriptor) as a failed read would
      if (body.kind === "stream") body.stream.destroy();
      options.signal.throwIfAborted();
    }
    const bytes = body.kind === "buffer" ? Buffer.from(body.buffer) : await consume(body.stream, options.signal);
    if (body.kind === "stream") assertAnnouncedLength(bytes.length, body.length);
    options.signal?.throwIfAborted();
    let final = key;
    if (!options.overwrite) {
      while (this.#objects.has(final)) final = options.alternativeKey(final);
    }
    this.#objects.set(final, {
      bytes,
      contentType: options.contentType,
      contentDisposition: options.contentDisposition,
      lastModified: new Date(),
      etag: createHash("md5").update(bytes).digest("hex"),
    });
    return { key: final, size: bytes.length };
  }

  /**
   * Resolves with a stream of a copy of the object's bytes (or of the inclusive `range`), or `null` when
   * missing: a reader that changes its chunks in place changes no stored file, as on disk and S3.
   */
  async open(key: string, range?: ByteRange): Promise<Readable | null> {
    const object = this.#objects.get(key);
    if (!object) return null;
    const bytes = range ? object.bytes.subarray(range.start, (range.end ?? Number.MAX_SAFE_INTEGER) + 1) : object.bytes;
    return Readable.from([Buffer.from(bytes)], { objectMode: false });
  }

  /** Resolves with the object's metadata, or `null` when missing. */
  async stat(key: string): Promise<ObjectStat | null> {
    const object = this.#objects.get(key);
    if (!object) return null;
    return {
      size: object.bytes.length,
      contentType: object.contentType,
      lastModified: new Date(object.lastModified.getTime()),
      etag: object.etag,
    };
  }

  /** The `Content-Disposition` stored with the object (`attachment` for html/svg/xml), or `null`. */
  contentDisposition(key: string): string | null {
    return this.#objects.get(key)?.contentDisposition ?? null;
  }

  /** Removes the object; a missing key is a no-op. */
  async delete(key: string): Promise<void> {
    this.#objects.delete(key);
  }

  /** Lists the immediate "directories" and files under `prefix` ("" or ending with `/`), sorted. */
  async list(prefix: string): Promise<ListResult> {
    const directories = new Set<string>();
    const files: string[] = [];
    for (const key of this.#objects.keys()) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf("/");
      if (slash === -1) files.push(rest);
      else directories.add(rest.slice(0, slash));
    }
    return { directories: [...directories].sort(), files: files.sort() };
  }

  /** Every object under `prefix`. */
  async listAll(prefix: string): Promise<StoredObject[]> {
    const found: StoredObject[] = [];
    for (const [name, object] of this.#objects) {
      if (!name.startsWith(prefix)) continue;
      found.push({ name, storedSize: object.bytes.length, lastModified: object.lastModified, md5: object.etag });
    }
    return found;
  }

  /**
   * `baseUrl` plus the percent-encoded key; nothing serves it, so expiry and overrides leave it as it is.
   * They are checked all the same, as the signing drivers check them (`RangeError`, `TypeError`): an
   * `expiresIn` that is not a positive number of seconds, or a `contentType` that is not a header value,
   * would pass a test on `storages.fake()` and fail in production.
   */
  url(key: string, options: UrlOptions = {}): string {
    if (options.expiresIn !== undefined) checkExpiresIn(options.expiresIn);
    if (options.contentType !== undefined) checkContentTypeOverride(options.contentType);
    return this.#baseUrl + encodeKeyPath(key);
  }

  /**
   * An upload URL only `receiveUpload` answers (`baseUrl` plus the key, and a random `upload` token),
   * for testing direct uploads without a server: it keeps what an S3 signature would fix.
   */
  async presignUpload(key: string, options: DriverUploadOptions): Promise<DriverUploadRequest> {
    const now = Date.now();
    for (const [token, pending] of this.#uploads) if (pending.expiresAt <= now) this.#uploads.delete(token);
    const token = randomBytes(16).toString("hex");
    const expiresAt = (Math.floor(now / 1000) + options.expiresIn) * 1000;
    // the headers S3 would sign for this upload, which put() then insists on, as S3 does
    const headers: Record<string, string> = { "content-type": options.contentType };
    if (options.contentDisposition !== null) headers["content-disposition"] = options.contentDisposition;
    if (!options.overwrite) headers["if-none-match"] = "*";
    this.#uploads.set(token, { ...options, key, expiresAt, headers });
    return { url: `${this.url(key)}?upload=${token}`, method: "PUT", headers, expiresAt: new Date(expiresAt) };
  }

  /**
   * What S3 answers to the PUT of `body` to an upload URL from `presignUpload`, as an HTTP status:
   * 200 (stored), 403 (unknown, moved or expired URL, or a signed header missing or changed),
   * 400 (another size than signed), 412 (the name is taken and the URL may not replace it).
   */
  receiveUpload(url: string, body: Buffer, headers: Record<string, string>): number {
    const parsed = new URL(url, "memory://storage");
    const upload = this.#uploads.get(parsed.searchParams.get("upload") ?? "");
    if (!upload || `${parsed.pathname}` !== new URL(this.url(upload.key), "memory://storage").pathname) return 403;
    if (upload.expiresAt <= Date.now()) return 403;
    const sent = new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
    for (const [name, value] of Object.entries(upload.headers)) if (sent.get(name) !== value) return 403;
    if (body.length !== upload.size) return 400;
    if (!upload.overwrite && this.#objects.has(upload.key)) return 412;
    this.#objects.set(upload.key, {
      bytes: Buffer.from(body),
      contentType: upload.contentType,
      contentDisposition: upload.contentDisposition,
      lastModified: new Date(),
      etag: createHash("md5").update(body).digest("hex"),
    });
    return 200;
  }

  /** Forgets every object, and every upload URL. */
  clear(): void {
    this.#objects.clear();
    this.#uploads.clear();
  }
}

async function consume(stream: Readable, signal?: AbortSignal): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(
    stream,
    async (source: AsyncIterable<Buffer | string>) => {
      for await (const chunk of source) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    },
    { signal },
  );
  return Buffer.concat(parts);
}

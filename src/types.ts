import type { Readable } from "node:stream";
import type { StorageOperation } from "./errors/StorageOperationError";

/** What `stat()` reports about a stored object. `size` is always the original (uncompressed) byte count. */
export interface ObjectStat {
  size: number;
  contentType: string | null;
  lastModified: Date;
  etag: string | null;
  /**
   * S3: the bytes as stored (`Content-Length`), the compressed size of a gzipped object. Absent on
   * backends that store what was saved (disk, memory).
   */
  storedSize?: number;
  /** S3: the object's `Content-Encoding` (null: none). Absent on backends that keep none (disk, memory). */
  contentEncoding?: string | null;
}

/** An inclusive byte range, like HTTP `Range: bytes=start-end`; `end` defaults to the last byte. */
export interface ByteRange {
  start: number;
  end?: number;
}

/** What `listdir(prefix)` returns: immediate sub-"directories" and files, both relative to the prefix. */
export interface ListResult {
  directories: string[];
  files: string[];
}

/** One object found by `listAll(prefix)`: every object under a prefix, at any depth, in one listing. */
export interface StoredObject {
  /** The key, relative to the storage's location (what `save()` returned for it). */
  name: string;
  /** Bytes as stored: the compressed size for an object the storage gzipped. */
  storedSize: number;
  lastModified: Date;
  /**
   * The MD5 (hex) of the stored bytes when the backend reports it without another request (memory;
   * S3's ETag of an object written in one request, neither multipart nor KMS- or customer-key-encrypted);
   * otherwise null.
   */
  md5: string | null;
}

/** Options for `url()` / `generateUrl()`: all synchronous, none touches the network. */
export interface UrlOptions {
  /** Seconds until a signed URL expires (defaults to the storage's `querystringExpire`). */
  expiresIn?: number;
  /** Ask the browser to download the file under this name (`Content-Disposition: attachment`). */
  download?: string;
  /** Override the `Content-Type` the file is served with. */
  contentType?: string;
}

/** A multer-style file object (`multer.memoryStorage()` gives `buffer`, `diskStorage()` gives `path`). */
export interface MulterFileLike {
  originalname?: string;
  mimetype?: string;
  size?: number;
  buffer?: Buffer;
  path?: string;
}

/** Everything `save()` accepts as content. Use `fromPath(path)` for a file on local disk. */
export type FileContent =
  | Buffer
  | Uint8Array
  | string
  | Readable
  | ReadableStream<Uint8Array>
  | Blob
  | MulterFileLike
  | LocalFileContent;

/** Content read from a local path; made by `fromPath()`. */
export interface LocalFileContent {
  readonly kind: "local-file";
  readonly path: string;
}

/** Per-call options of `Storage.save()`. */
export interface StorageSaveOptions {
  /** Content type; guessed from the key when absent. */
  contentType?: string;
  /** Replace an existing object under the same key (defaults to the storage's `fileOverwrite`). */
  overwrite?: boolean;
  /** Longest key allowed; an alternative name is truncated to fit. */
  maxLength?: number;
  /** Aborts the upload; nothing is left behind. */
  signal?: AbortSignal;
  /** Called with the number of bytes sent so far. */
  onProgress?: (bytesSent: number) => void;
  /** `Content-Disposition` to store; `null` for none. Defaults to `attachment` for html, svg and xml. */
  contentDisposition?: string | null;
  /**
   * Largest content accepted, in bytes: over it `save()` throws `FileValidationError` and stores
   * nothing; a stream of unknown length is stopped when it passes the limit.
   */
  maxSize?: number;
  /**
   * Content types (`image/*`, `application/pdf`) or extensions (`.pdf`) accepted, like the HTML
   * `accept` attribute; matched against the content type the object is stored with (the one passed,
   * the content's own, or the one guessed from the name) and the name's extension. Anything else
   * throws `FileValidationError` before a byte is written.
   */
  accept?: readonly string[];
}

/**
 * The body handed to a driver: a whole buffer, or a stream with its length when known.
 * The facade converts every `FileContent` into one of these.
 */
export type DriverBody =
  | { kind: "buffer"; buffer: Buffer }
  | { kind: "stream"; stream: Readable; length: number | null };

/** Options a driver receives for a write. */
export interface DriverWriteOptions {
  contentType: string;
  /** `Content-Disposition` to store with the object (html/svg/xml get `attachment`), if any. */
  contentDisposition: string | null;
  overwrite: boolean;
  /**
   * Without overwrite: called when `key` turned out to be taken at write time; returns another
   * candidate key (pure, no I/O). The driver retries with it and returns the key it finally used.
   */
  alternativeKey: (takenKey: string) => string;
  signal?: AbortSignal;
  onProgress?: (bytesSent: number) => void;
}

/** What a driver signs into a direct-upload URL (see `Storage.createUpload`). */
export interface DriverUploadOptions {
  /** Exact byte count of the body: the signature covers it, so another length is refused. */
  size: number;
  contentType: string;
  /** `Content-Disposition` to store with the object (html/svg/xml get `attachment`), if any. */
  contentDisposition: string | null;
  /** Without overwrite the upload fails (412) when the key is taken by then. */
  overwrite: boolean;
  /** Seconds the URL stays valid (the PUT must start before). */
  expiresIn: number;
}

/** A signed request that uploads one file straight to the storage, without passing through the app. */
export interface UploadRequest {
  /** Where to send the body: absolute for S3, the storage's `baseUrl` plus the key on local disk. */
  url: string;
  method: "PUT";
  /**
   * Headers the request must carry exactly, as signed (`Content-Type`, and on S3 the storage's
   * `x-amz-*` settings). `Content-Length` is signed too but left out: browsers set it themselves.
   */
  headers: Record<string, string>;
}

/** What a driver signs: the request, and when it stops working (sooner than asked with expiring credentials). */
export interface DriverUploadRequest extends UploadRequest {
  expiresAt: Date;
}

/** What a driver signs for an upload in parts (`Storage.createMultipartUpload`). */
export interface DriverMultipartOptions extends DriverUploadOptions {
  /** Bytes per part (the last may be shorter): 5 MiB to 5 GiB, at most 10,000 parts. */
  partSize: number;
}

/** One part of an upload in parts: PUT exactly `size` bytes to `url` and keep the `ETag` it answers. */
export interface UploadPart {
  partNumber: number;
  url: string;
  size: number;
  /** Headers the PUT must carry, as signed (on a requester-pays bucket, `x-amz-request-payer`); often none. */
  headers: Record<string, string>;
}

/** What a driver reports for an upload in parts it began and signed. */
export interface DriverMultipartUpload {
  uploadId: string;
  /** The `Content-Encoding` the object is created with (the storage's settings), or null. */
  contentEncoding: string | null;
  parts: UploadPart[];
  /** When the part URLs stop working. */
  expiresAt: Date;
}

/** A part the uploader sent, as the completion takes it: its number and the `ETag` its PUT answered. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/** What a driver reports after a write. */
export interface DriverWriteResult {
  key: string;
  size: number;
}

/**
 * The byte-moving backend behind a `Storage`. Drivers throw raw errors; the facade names and wraps
 * them. Not-found is reported by value: `stat`/`open` return `null`, `delete` of a missing key is a no-op.
 */
export interface StorageDriver {
  /** Short backend name for messages: "s3", "filesystem", "memory". */
  readonly kind: string;
  /** True when `url()` gives addresses anyone can open without a signature (never allowed for private fields). */
  readonly publicUrls: boolean;
  /**
   * True when new objects are stored readable by anyone without a signature (S3: a public ACL), whatever
   * `url()` gives: signed URLs to such objects protect nothing, so private fields refuse it too.
   */
  readonly publicObjects?: boolean;
  /** True when the backend keeps no content type: every object is served with the type its name gives (disk). */
  readonly typeFromName?: boolean;
  write(key: string, body: DriverBody, options: DriverWriteOptions): Promise<DriverWriteResult>;
  open(key: string, range?: ByteRange): Promise<Readable | null>;
  stat(key: string): Promise<ObjectStat | null>;
  /** Whether `key` exists, when the backend can tell with less than `stat` (S3: a HEAD, never the gzip trailer). */
  exists?(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** `prefix` is "" or ends with "/". */
  list(prefix: string): Promise<ListResult>;
  /**
   * Every object under `prefix` ("" or ending with "/"), at any depth, with its size and modification
   * time, in as few requests as the backend allows (S3: one listing, no HEAD per object). Without it
   * the facade walks `list` and calls `stat` per object.
   */
  listAll?(prefix: string): Promise<StoredObject[]>;
  /** Synchronous; never touches the network. */
  url(key: string, options: UrlOptions): string;
  /** Resolves anything `url()` needs ahead (credentials); makes no request to the object store. */
  ready?(): Promise<void>;
  /**
   * The content type the storage's settings give a new object under `key` (S3: `ContentType` in
   * `objectParameters` or `getObjectParameters(name)`), if any. It wins over the type of the content
   * and over the guess from the name; a `contentType` passed to `save()` wins over it.
   */
  configuredContentType?(key: string): string | undefined;
  /**
   * What to do about a failure the backend reported during `operation`, in the settings' names; the
   * facade appends it to its message. Null when there is nothing better than the backend's own words.
   */
  explain?(error: unknown, operation: StorageOperation): string | null;
  /**
   * Signs an `UploadRequest` that writes `key` (no request to the store); absent on backends no
   * client can reach over HTTP (memory). Throws `StorageConfigError` for settings a client must not
   * receive (an S3 customer key) or a missing signing secret.
   */
  presignUpload?(key: string, options: DriverUploadOptions): Promise<DriverUploadRequest>;
  /**
   * Begins an upload in parts that a client sends itself (S3: CreateMultipartUpload with the object's
   * settings, then a presigned UploadPart URL per part, each signing its size). Absent where objects are
   * not written in parts (disk, memory).
   */
  presignMultipartUpload?(key: string, options: DriverMultipartOptions): Promise<DriverMultipartUpload>;
  /** Presigns again some part URLs of an upload in parts (they expired, or a part must be sent again). */
  presignUploadParts?(
    key: string,
    uploadId: string,
    options: { size: number; partSize: number; partNumbers: readonly number[]; expiresIn: number },
  ): Promise<{ parts: UploadPart[]; expiresAt: Date }>;
  /** Joins the parts into the object; without `overwrite`, never over an existing one. */
  completeMultipartUpload?(key: string, uploadId: string, parts: UploadedPart[], overwrite: boolean): Promise<void>;
  /** Drops an upload in parts and its parts; one already gone is not an error. */
  abortMultipartUpload?(key: string, uploadId: string): Promise<void>;
  /**
   * Makes a direct upload that arrived permanent (S3 with `pendingUploadTag`: removes the tag a lifecycle
   * rule would expire it by), or with `pending` pending again (puts the tag back). Absent when there is
   * nothing to do.
   */
  confirmUpload?(key: string, pending?: boolean): Promise<void>;
  /** Local filesystem path of a key, for drivers that have one. */
  path?(key: string): string;
  /** Releases sockets and timers. */
  close?(): Promise<void>;
}

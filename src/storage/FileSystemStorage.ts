import { FileSystemDriver } from "../drivers/fs/FileSystemDriver";
import { StorageConfigError } from "../errors/StorageConfigError";
import { MAX_EXPIRES_IN, UrlSigner } from "../http/UrlSigner";
import { Storage, type StorageOptions } from "./Storage";

/** The shortest signing secret accepted, in bytes: an HMAC-SHA256 key should be at least its output size. */
export const MIN_SIGNING_SECRET_BYTES = 32;

/** Options of `FileSystemStorage`, named after Django's `FileSystemStorage` and django-storages. */
export interface FileSystemStorageOptions extends StorageOptions {
  /** Root directory of the files (Django's `MEDIA_ROOT`; env `MEDIA_ROOT`); created on the first write. */
  location: string;
  /**
   * URL prefix of the files (Django's `MEDIA_URL`; env `MEDIA_URL`), default `/media/`: path-only
   * (`/media/`) or absolute (`https://cdn.example/media/`). A trailing `/` is added when missing.
   */
  baseUrl?: string;
  /** Sign every URL with an expiry (default false); `serveFiles` then refuses unsigned requests. */
  querystringAuth?: boolean;
  /**
   * HMAC key of signed URLs, at least 32 bytes (env `STORAGES_SIGNING_SECRET`). Required with
   * `querystringAuth`; without it, also used to sign `download`/`contentType` overrides.
   */
  signingSecret?: string | Buffer;
  /** Lifetime of signed URLs in seconds (default 3600; `storagesFromEnv` reads `PRIVATE_MEDIA_EXPIRE`). */
  querystringExpire?: number;
  /** Mode for saved files, e.g. `0o644` (Django's `FILE_UPLOAD_PERMISSIONS`); default: umask. */
  filePermissions?: number;
  /** Mode for directories it creates, e.g. `0o755` (`FILE_UPLOAD_DIRECTORY_PERMISSIONS`); default: umask. */
  directoryPermissions?: number;
}

/**
 * A storage on local disk (Django's `FileSystemStorage`), with optional signed URLs that `serveFiles`
 * checks. The constructor throws `StorageConfigError` for a missing `location`, a relative `baseUrl`,
 * a bad expiry, or `querystringAuth` without a long enough `signingSecret`; it does no I/O.
 */
export class FileSystemStorage extends Storage {
  readonly #fs: FileSystemDriver;
  readonly #allowUnsafeInline: boolean;

  constructor(options: FileSystemStorageOptions) {
    const driver = new FileSystemDriver(checkOptions(options));
    super(driver, options);
    this.#fs = driver;
    this.#allowUnsafeInline = options.allowUnsafeInline ?? false;
  }

  /** The file-system driver, for `serveFiles`. */
  override get driver(): FileSystemDriver {
    return this.#fs;
  }

  /** The absolute root directory. */
  get location(): string {
    return this.#fs.location;
  }

  /** The URL prefix, ending with `/`. */
  get baseUrl(): string {
    return this.#fs.baseUrl;
  }

  /** Whether every URL is signed and `serveFiles` demands a valid signature. */
  get querystringAuth(): boolean {
    return this.#fs.querystringAuth;
  }

  /** Whether html, svg and xml are served inline (the `allowUnsafeInline` option). */
  get allowUnsafeInline(): boolean {
    return this.#allowUnsafeInline;
  }
}

function checkOptions(options: FileSystemStorageOptions) {
  const fail = (message: string) => new StorageConfigError(`FileSystemStorage: ${message}`);
  if (typeof options?.location !== "string" || options.location.trim() === "") {
    throw fail("`location` (the root directory, e.g. MEDIA_ROOT) is required.");
  }
  let baseUrl = options.baseUrl ?? "/media/";
  if (!baseUrl.endsWith("/")) baseUrl += "/";
  if (!baseUrl.startsWith("/") && !/^https?:\/\/[^/]/i.test(baseUrl)) {
    throw fail(`\`baseUrl\` must start with "/" or be an absolute http(s) URL, got ${JSON.stringify(baseUrl)}.`);
  }
  const querystringExpire = options.querystringExpire ?? 3600;
  if (!Number.isInteger(querystringExpire) || querystringExpire <= 0 || querystringExpire > MAX_EXPIRES_IN) {
    throw fail(
      `\`querystringExpire\` must be a positive whole number of seconds up to ${MAX_EXPIRES_IN} (about 1,000 years), got ${querystringExpire}.`,
    );
  }
  const querystringAuth = options.querystringAuth ?? false;
  const secret = options.signingSecret;
  if (querystringAuth && (secret === undefined || secret === "")) {
    throw fail(
      "`querystringAuth: true` needs a `signingSecret` (env STORAGES_SIGNING_SECRET) of at least " +
        `${MIN_SIGNING_SECRET_BYTES} random bytes, for example the output of \`openssl rand -base64 48\`.`,
    );
  }
  if (secret !== undefined && Buffer.byteLength(secret) < MIN_SIGNING_SECRET_BYTES) {
    throw fail(
      `\`signingSecret\` is ${Buffer.byteLength(secret)} bytes; use at least ${MIN_SIGNING_SECRET_BYTES} random bytes.`,
    );
  }
  for (const name of ["filePermissions", "directoryPermissions"] as const) {
    const mode = options[name];
    if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)) {
      throw fail(`\`${name}\` must be a file mode such as 0o644, got ${mode}.`);
    }
  }
  return {
    location: options.location,
    baseUrl,
    signer: secret === undefined ? null : new UrlSigner(secret),
    querystringAuth,
    querystringExpire,
    filePermissions: options.filePermissions,
    directoryPermissions: options.directoryPermissions,
  };
}

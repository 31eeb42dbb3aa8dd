import { posix } from "node:path";
import { isUnsafeInline } from "../../content/guessContentType";
import { StorageConfigError } from "../../errors/StorageConfigError";
import type { UrlOptions } from "../../types";
import type { UrlBase } from "./resolveUrlBase";
import {
  type CloudFrontUrlSigner,
  MAX_CLOUDFRONT_SECONDS,
  MAX_PRESIGN_SECONDS,
  type ResolvedS3Options,
} from "./S3StorageOptions";
import { attachmentDisposition, encodeS3Path, S3UrlSigner, type SigningCredentials, uriEncode } from "./S3UrlSigner";
import { type S3UrlMode, s3UrlMode } from "./s3UrlMode";

/** The longest a CloudFront expiry is rounded up by (see `cloudFrontExpiry`). */
const MAX_EXPIRY_STEP = 3600;

/**
 * Builds object URLs synchronously, by the first rule that applies (django-storages' `url()`, with
 * django-s3-storage's `AWS_S3_PUBLIC_URL` first):
 *
 * 1. `publicUrl`: the prefix plus the encoded name relative to `location` (django-s3-storage's
 *    `urljoin(AWS_S3_PUBLIC_URL, name)`: the prefix points at the location), never signed.
 * 2. `customDomain` without `querystringAuth`, or with `cloudfrontSigner: null`: an unsigned URL on the
 *    custom domain.
 * 3. `customDomain` with `querystringAuth` and a CloudFront key or signer: a CloudFront signed URL,
 *    valid for at least `expiresIn` (default `querystringExpire`) seconds, rounded up (`cloudFrontExpiry`).
 *    `download` and `contentType` become `response-content-disposition` / `response-content-type` query
 *    parameters inside the signed URL; they take effect only if the distribution forwards those query
 *    strings to the S3 origin (an origin request policy, and the cache key, must include them) and
 *    reaches S3 with origin access control, since S3 honours response overrides only on signed requests.
 * 4. No `querystringAuth`: an unsigned URL on the bucket endpoint (`publicEndpointUrl` or `endpointUrl`).
 * 5. Otherwise an S3 presigned URL on that endpoint. This includes `customDomain` with `querystringAuth`
 *    and nothing CloudFront configured: a CDN neither forwards nor honours S3 query signatures, so a
 *    presigned custom-domain URL would either leak a private object through the CDN cache or fail.
 */
export class S3UrlBuilder {
  readonly #options: ResolvedS3Options;
  readonly #signer = new S3UrlSigner();
  readonly #mode: S3UrlMode;
  /** `https://cdn.example.com/` for custom-domain URLs. */
  readonly #customDomainBase: string;
  #base: UrlBase | null = null;

  /**
   * `base` is where bucket URLs point when the options already decide it (`startupUrlBase`), else null
   * until `configure()`.
   */
  constructor(options: ResolvedS3Options, base: UrlBase | null) {
    this.#options = options;
    this.#mode = s3UrlMode(options);
    this.#customDomainBase = `${options.urlProtocol}//${options.customDomain}/`;
    this.#base = base;
  }

  /** Whether bucket URLs (unsigned on the endpoint, or presigned) are built at all. */
  get usesEndpoint(): boolean {
    return this.#mode === "endpoint" || this.#mode === "presigned";
  }

  /** Points bucket URLs where the SDK client resolved them to (`clientUrlBase`), from `ready()`. */
  configure(base: UrlBase): void {
    this.#base = base;
  }

  /** Whether URLs are S3 presigned, so they need the S3 credentials (CloudFront URLs do not). */
  get signs(): boolean {
    return this.#mode === "presigned";
  }

  /** Whether URLs carry no signature at all, so anyone holding one can read the object. */
  get publicUrls(): boolean {
    return this.#mode !== "presigned" && this.#mode !== "cloudFront";
  }

  /**
   * The URL of the full object key `objectKey`. `credentials` is called only for S3 presigned URLs.
   * Throws `StorageConfigError` when the endpoint is needed before `ready()` resolved it, and
   * `RangeError` for an `expiresIn` the URL cannot honour or response overrides on an unsigned URL.
   */
  url(objectKey: string, options: UrlOptions, credentials: () => SigningCredentials, storage: string): string {
    switch (this.#mode) {
      case "publicUrl":
        return `${this.#options.publicUrl}${encodeS3Path(objectKey.slice(this.#options.keyPrefix.length))}${this.#unsignedOverrides(options)}`;
      case "customDomain":
        return `${this.#customDomainBase}${encodeS3Path(objectKey)}${this.#unsignedOverrides(options)}`;
      case "endpoint": {
        const base = this.#ready(storage);
        return `${base.origin}${base.pathPrefix}/${encodeS3Path(objectKey)}${this.#unsignedOverrides(options)}`;
      }
      case "cloudFront":
        return this.#cloudFrontUrl(objectKey, options);
      case "presigned":
        return this.#presignedUrl(objectKey, options, credentials(), this.#ready(storage));
    }
  }

  #cloudFrontUrl(objectKey: string, options: UrlOptions): string {
    const expiresIn = options.expiresIn ?? this.#options.querystringExpire;
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_CLOUDFRONT_SECONDS) {
      throw new RangeError(`expiresIn must be an integer from 1 to ${MAX_CLOUDFRONT_SECONDS} seconds.`);
    }
    let query = "";
    const disposition = this.#disposition(objectKey, options);
    if (disposition !== undefined) query += `&response-content-disposition=${uriEncode(disposition)}`;
    if (options.contentType !== undefined) query += `&response-content-type=${uriEncode(options.contentType)}`;
    const url = `${this.#customDomainBase}${encodeS3Path(objectKey)}${query === "" ? "" : `?${query.slice(1)}`}`;
    const sign = this.#options.cloudfrontSigner as CloudFrontUrlSigner;
    return sign(url, new Date(cloudFrontExpiry(Date.now(), expiresIn) * 1000));
  }

  #presignedUrl(objectKey: string, options: UrlOptions, creds: SigningCredentials, base: UrlBase): string {
    let expiresIn = options.expiresIn ?? this.#options.querystringExpire;
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_PRESIGN_SECONDS) {
      throw new RangeError(
        `expiresIn must be an integer from 1 to ${MAX_PRESIGN_SECONDS} seconds (7 days, S3's limit).`,
      );
    }
    const now = Date.now();
    if (creds.expiration !== undefined) {
      // A URL signed with temporary credentials dies with them anyway; say so in the URL itself.
      expiresIn = Math.max(1, Math.min(expiresIn, Math.floor((creds.expiration.getTime() - now) / 1000)));
    }
    return this.#signer.presign(creds, {
      origin: base.origin,
      path: `${base.pathPrefix}/${encodeS3Path(objectKey)}`,
      region: base.region,
      expiresIn,
      now,
      responseContentDisposition: this.#disposition(objectKey, options),
      responseContentType: options.contentType,
    });
  }

  /**
   * A presigned PUT of the full object key `objectKey` on the bucket endpoint (`publicEndpointUrl` when
   * set: the uploader's browser must reach it), never on a custom domain or CDN, signing `headers`, and
   * when it expires (sooner than asked when the credentials expire first). Throws `RangeError` for an
   * expiry S3 cannot honour.
   */
  uploadUrl(
    objectKey: string,
    headers: Record<string, string>,
    expiresIn: number,
    creds: SigningCredentials,
    storage: string,
    query?: Record<string, string>,
  ): { url: string; expiresAt: Date } {
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_PRESIGN_SECONDS) {
      throw new RangeError(
        `expiresIn must be an integer from 1 to ${MAX_PRESIGN_SECONDS} seconds (7 days, S3's limit).`,
      );
    }
    const base = this.#ready(storage);
    const now = Date.now();
    const lifetime =
      creds.expiration === undefined
        ? expiresIn
        : Math.max(1, Math.min(expiresIn, Math.floor((creds.expiration.getTime() - now) / 1000)));
    const url = this.#signer.presignUpload(creds, {
      origin: base.origin,
      path: `${base.pathPrefix}/${encodeS3Path(objectKey)}`,
      region: base.region,
      expiresIn: lifetime,
      headers,
      query,
      now,
    });
    // X-Amz-Date is whole seconds: the URL dies at that second plus its lifetime
    return { url, expiresAt: new Date((Math.floor(now / 1000) + lifetime) * 1000) };
  }

  /**
   * The `response-content-disposition` of a signed URL: `attachment` under the `download` name, else,
   * for a `contentType` override a browser could run as a document on the bucket's origin (html, svg,
   * any xml, a malformed type), `attachment` under the key's name unless the storage sets
   * `allowUnsafeInline`, as `serveFiles` answers the same override on disk. S3 keeps the object's own
   * disposition otherwise, and an image stored inline would be served as the HTML it was told to be.
   */
  #disposition(objectKey: string, options: UrlOptions): string | undefined {
    if (options.download !== undefined) return attachmentDisposition(options.download);
    if (options.contentType === undefined || this.#options.allowUnsafeInline) return undefined;
    return isUnsafeInline(options.contentType) ? attachmentDisposition(posix.basename(objectKey)) : undefined;
  }

  /** Unsigned URLs cannot carry response overrides (S3 ignores them without a signature); refuse loudly. */
  #unsignedOverrides(options: UrlOptions): string {
    if (options.download === undefined && options.contentType === undefined) return "";
    const fix =
      this.#mode === "customDomain" && this.#options.querystringAuth
        ? "configure a CloudFront key (cloudfrontKey + cloudfrontKeyId) instead of cloudfrontSigner: null"
        : this.#mode === "publicUrl"
          ? "use a storage without publicUrl and with querystringAuth"
          : "enable querystringAuth on this storage";
    throw new RangeError(
      `download and contentType need a signed URL (S3 ignores response overrides on anonymous requests); ${fix}.`,
    );
  }

  #ready(storage: string): UrlBase {
    if (this.#base === null) {
      throw new StorageConfigError(
        `Cannot build a URL for ${storage}: its endpoint and region are not resolved yet. Call ` +
          "`await storages.ready()` (or `await storage.ready()`) once at start-up, or set regionName (and, with an " +
          "injected client, endpointUrl).",
      );
    }
    return this.#base;
  }
}

/**
 * When a CloudFront URL made at `now` (ms) for `lifetime` seconds expires, in epoch seconds: at least
 * `lifetime` from now, rounded up to a multiple of a tenth of the lifetime (at most an hour). URLs made
 * within the same window are identical, so browsers and CDNs cache them and the signer's cache hits;
 * the price is a URL living up to 10% (at most an hour) longer than asked.
 */
function cloudFrontExpiry(now: number, lifetime: number): number {
  const step = Math.min(MAX_EXPIRY_STEP, Math.max(1, Math.floor(lifetime / 10)));
  return Math.ceil((Math.ceil(now / 1000) + lifetime) / step) * step;
}

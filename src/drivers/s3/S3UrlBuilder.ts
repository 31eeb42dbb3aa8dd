import { isIP } from "node:net";
import { StorageConfigError } from "../../errors/StorageConfigError";
import type { UrlOptions } from "../../types";
import { MAX_PRESIGN_SECONDS, type ResolvedS3Options, type S3AddressingStyle } from "./S3StorageOptions";
import { attachmentDisposition, encodeS3Path, S3UrlSigner, type SigningCredentials } from "./S3UrlSigner";

/** Where bucket URLs point: `origin` plus a path prefix (`/bucket` for path style, "" for virtual hosts). */
interface UrlBase {
  origin: string;
  pathPrefix: string;
  region: string;
}

/** A bucket name that can be a DNS label under TLS (no dots, no upper case), as the SDK decides. */
function isVirtualHostable(bucket: string): boolean {
  return /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket) && !bucket.includes("--");
}

/**
 * Computes the URL base of `bucket` at `endpoint`. `auto` follows the SDK: virtual-hosted unless the
 * endpoint is an IP address or the bucket name cannot be a host label.
 */
export function urlBase(endpoint: URL, bucket: string, style: S3AddressingStyle, region: string): UrlBase {
  const basePath = endpoint.pathname.replace(/\/+$/, "");
  const hostname = endpoint.hostname.replace(/^\[|\]$/g, "");
  const pathStyle = style === "path" || (style === "auto" && (isIP(hostname) !== 0 || !isVirtualHostable(bucket)));
  if (pathStyle) return { origin: endpoint.origin, pathPrefix: `${basePath}/${encodeS3Path(bucket)}`, region };
  return { origin: `${endpoint.protocol}//${bucket}.${endpoint.host}`, pathPrefix: basePath, region };
}

/**
 * Builds object URLs synchronously: public (`customDomain`, or the bucket endpoint) or presigned.
 *
 * With `customDomain` and `querystringAuth` both on, URLs are presigned against the S3 endpoint (or
 * `publicEndpointUrl`), not the custom domain: a CDN in front of S3 neither forwards nor honours S3
 * query signatures (it would need CloudFront signed URLs, a later feature), so a signed custom-domain
 * URL would either leak a private object through the CDN cache or fail.
 */
export class S3UrlBuilder {
  readonly #options: ResolvedS3Options;
  readonly #signer = new S3UrlSigner();
  #base: UrlBase | null = null;

  constructor(options: ResolvedS3Options) {
    this.#options = options;
    const endpoint = options.publicEndpointUrl ?? options.endpointUrl;
    const region = options.regionName ?? (options.endpointUrl ? "us-east-1" : undefined);
    if (endpoint && region) this.#base = urlBase(endpoint, options.bucketName, options.addressingStyle, region);
    else if (region && options.client === undefined) {
      this.#base = urlBase(awsEndpoint(region), options.bucketName, options.addressingStyle, region);
    }
  }

  /** Whether `configure()` still has to run (region or endpoint known only to the SDK client). */
  get needsConfiguration(): boolean {
    return this.#base === null;
  }

  /** Fills in what only the client knew (its endpoint, region and path style), from `ready()`. */
  configure(endpoint: URL | undefined, region: string, forcePathStyle: boolean): void {
    const target = this.#options.publicEndpointUrl ?? endpoint ?? awsEndpoint(region);
    const style = this.#options.addressingStyle === "auto" && forcePathStyle ? "path" : this.#options.addressingStyle;
    this.#base = urlBase(target, this.#options.bucketName, style, region);
  }

  /** Whether URLs need credentials (presigned) rather than being public. */
  get signs(): boolean {
    return this.#options.querystringAuth;
  }

  /**
   * The URL of the full object key `objectKey`. `credentials` is called only for presigned URLs; throws
   * `StorageConfigError` before `ready()` and `RangeError` for an `expiresIn` S3 cannot honour.
   */
  url(objectKey: string, options: UrlOptions, credentials: () => SigningCredentials, storage: string): string {
    const path = encodeS3Path(objectKey);
    const { customDomain, urlProtocol } = this.#options;
    if (!this.#options.querystringAuth) {
      const base = customDomain ? `${urlProtocol}//${customDomain}` : this.#ready(storage).origin;
      const prefix = customDomain ? "" : this.#ready(storage).pathPrefix;
      return `${base}${prefix}/${path}${publicOverrides(options)}`;
    }
    const base = this.#ready(storage);
    const creds = credentials();
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
      path: `${base.pathPrefix}/${path}`,
      region: base.region,
      expiresIn,
      now,
      responseContentDisposition: options.download === undefined ? undefined : attachmentDisposition(options.download),
      responseContentType: options.contentType,
    });
  }

  #ready(storage: string): UrlBase {
    if (this.#base === null) {
      throw new StorageConfigError(
        `Cannot build a URL for ${storage}: its endpoint and region are not resolved yet. Call ` +
          "`await storages.ready()` (or `await storage.ready()`) once at start-up, or set regionName.",
      );
    }
    return this.#base;
  }
}

function awsEndpoint(region: string): URL {
  return new URL(`https://s3.${region}.amazonaws.com`);
}

/** Unsigned URLs cannot carry response overrides (S3 ignores them without a signature); refuse loudly. */
function publicOverrides(options: UrlOptions): string {
  if (options.download !== undefined || options.contentType !== undefined) {
    throw new RangeError(
      "download and contentType need a presigned URL (S3 ignores response overrides on anonymous requests); " +
        "enable querystringAuth on this storage.",
    );
  }
  return "";
}

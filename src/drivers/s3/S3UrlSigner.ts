import { createHash, createHmac } from "node:crypto";

/** The credentials a presigned URL is signed with. */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials stop working; a URL never outlives it. */
  expiration?: Date;
}

/** One GET URL to presign. */
export interface PresignRequest {
  /** `https://host[:port]`, exactly as the URL will carry it. */
  origin: string;
  /** The canonical path (`/bucket/key` or `/key`), already encoded with `encodeS3Path`. */
  path: string;
  region: string;
  /** Seconds of validity, already validated (1 … 7 days). */
  expiresIn: number;
  /** `response-content-disposition` override, sent as is (see `attachmentDisposition`). */
  responseContentDisposition?: string;
  /** `response-content-type` override. */
  responseContentType?: string;
  /** Milliseconds since the epoch; defaults to `Date.now()` (tests pin it). */
  now?: number;
}

/** One PUT URL to presign: the headers it signs must then be sent exactly. */
export interface PresignUploadRequest {
  origin: string;
  path: string;
  region: string;
  expiresIn: number;
  /** Headers to sign, names in lower case, `host` excluded (added from `origin`). */
  headers: Record<string, string>;
  /** Query parameters of the request itself (`partNumber`, `uploadId` of an UploadPart), signed too. */
  query?: Record<string, string>;
  now?: number;
}

/**
 * S3's URI encoding (SigV4 "UriEncode"): every byte but `A-Z a-z 0-9 - _ . ~` is percent-encoded, so
 * `encodeURIComponent` plus `! ' ( ) *`.
 */
export function uriEncode(value: string): string {
  const encoded = encodeURIComponent(value);
  return LEFT_BY_ENCODE_URI.test(encoded) ? encoded.replace(LEFT_BY_ENCODE_URI_ALL, percentEncode) : encoded;
}

const LEFT_BY_ENCODE_URI = /[!'()*]/;
const LEFT_BY_ENCODE_URI_ALL = /[!'()*]/g;
const percentEncode = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`;

/** Encodes an object key for a URL path the way S3 canonicalises it: each segment encoded, `/` kept. */
export function encodeS3Path(key: string): string {
  if (SAFE_PATH.test(key)) return key; // the common case, and most of the cost of url() otherwise
  // Encoding the whole key and restoring the slashes is one native call instead of one per segment.
  // No other "%2F" can appear: a "%" in the key itself is encoded as "%25".
  return uriEncode(key).replace(ENCODED_SLASH, "/");
}

const SAFE_PATH = /^[A-Za-z0-9\-_.~/]*$/;
const ENCODED_SLASH = /%2F/g;

/**
 * `attachment; filename="…"; filename*=UTF-8''…` for a download name: an ASCII fallback for old clients
 * and the exact name in RFC 5987 form (raw non-ASCII in a header gives mojibake, a 403 or a Node
 * TypeError, see shared/research/s3-servers.md test 7).
 */
export function attachmentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `attachment; filename="${fallback}"; filename*=UTF-8''${uriEncode(filename)}`;
}

const ALGORITHM = "AWS4-HMAC-SHA256";

/**
 * Presigns S3 GET URLs synchronously (SigV4, query authentication). The SDK's `getSignedUrl` is async
 * and costs ~350 µs; this costs a few µs because it signs only what a GET needs (the `host` header,
 * `UNSIGNED-PAYLOAD`) and caches the derived signing key per day and region. It never adds
 * `x-amz-checksum-*` parameters (the SDK's default checksum mode does, and strict servers then refuse
 * the request: seaweedfs/seaweedfs#10216).
 */
export class S3UrlSigner {
  #cachedKey: Buffer | null = null;
  #cachedScope = "";
  #cachedSecret = "";
  #dateSecond = -1;
  #amzDate = "";

  #signingKey(secret: string, date: string, region: string): Buffer {
    const scope = `${date}/${region}`;
    if (this.#cachedKey !== null && this.#cachedScope === scope && this.#cachedSecret === secret) {
      return this.#cachedKey;
    }
    const kDate = createHmac("sha256", `AWS4${secret}`).update(date).digest();
    const kRegion = createHmac("sha256", kDate).update(region).digest();
    const kService = createHmac("sha256", kRegion).update("s3").digest();
    const key = createHmac("sha256", kService).update("aws4_request").digest();
    this.#cachedKey = key;
    this.#cachedScope = scope;
    this.#cachedSecret = secret;
    return key;
  }

  /** `20260102T030405Z` for the given time, formatted once per second. */
  #date(now: number): string {
    const second = Math.floor(now / 1000);
    if (second !== this.#dateSecond) {
      const iso = new Date(second * 1000).toISOString();
      this.#amzDate = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
      this.#dateSecond = second;
    }
    return this.#amzDate;
  }

  /** The hex SigV4 signature of `canonicalRequest`, with the day's cached signing key. */
  #signature(
    credentials: SigningCredentials,
    region: string,
    amzDate: string,
    scope: string,
    canonicalRequest: string,
  ) {
    const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${createHash("sha256").update(canonicalRequest).digest("hex")}`;
    return createHmac("sha256", this.#signingKey(credentials.secretAccessKey, amzDate.slice(0, 8), region))
      .update(stringToSign)
      .digest("hex");
  }

  /** Returns the full presigned URL for `request`. Throws nothing for validated input. */
  presign(credentials: SigningCredentials, request: PresignRequest): string {
    const amzDate = this.#date(request.now ?? Date.now());
    const scope = `${amzDate.slice(0, 8)}/${request.region}/s3/aws4_request`;
    // Parameters in canonical (byte-wise sorted) order: upper-case "X-Amz-*" sorts before "response-*".
    let query = `${authQuery(credentials, scope, amzDate, request.expiresIn)}&X-Amz-SignedHeaders=host`;
    if (request.responseContentDisposition !== undefined) {
      query += `&response-content-disposition=${uriEncode(request.responseContentDisposition)}`;
    }
    if (request.responseContentType !== undefined) {
      query += `&response-content-type=${uriEncode(request.responseContentType)}`;
    }
    const host = request.origin.slice(request.origin.indexOf("//") + 2);
    const canonicalRequest = `GET\n${request.path}\n${query}\nhost:${host}\n\nhost\nUNSIGNED-PAYLOAD`;
    const signature = this.#signature(credentials, request.region, amzDate, scope, canonicalRequest);
    return `${request.origin}${request.path}?${query}&X-Amz-Signature=${signature}`;
  }

  /**
   * Returns a presigned PUT URL whose signature covers `request.headers` (and `host`), so a request
   * with another `Content-Length`, type or `x-amz-*` setting is refused (SignatureDoesNotMatch). The
   * payload is unsigned, as for every presigned URL.
   */
  presignUpload(credentials: SigningCredentials, request: PresignUploadRequest): string {
    const amzDate = this.#date(request.now ?? Date.now());
    const scope = `${amzDate.slice(0, 8)}/${request.region}/s3/aws4_request`;
    const host = request.origin.slice(request.origin.indexOf("//") + 2);
    const headers: [string, string][] = Object.entries({ ...request.headers, host }).map(([name, value]) => [
      name.toLowerCase(),
      value.trim().replace(/\s+/g, " "),
    ]);
    headers.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const signedHeaders = headers.map(([name]) => name).join(";");
    let query = `${authQuery(credentials, scope, amzDate, request.expiresIn)}&X-Amz-SignedHeaders=${uriEncode(signedHeaders)}`;
    // the request's own parameters sort after every "X-Amz-*" one (lower case after upper case)
    const own = Object.entries(request.query ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [name, value] of own) query += `&${uriEncode(name)}=${uriEncode(value)}`;
    const canonicalHeaders = headers.map(([name, value]) => `${name}:${value}\n`).join("");
    const canonicalRequest = `PUT\n${request.path}\n${query}\n${canonicalHeaders}\n${signedHeaders}\nUNSIGNED-PAYLOAD`;
    const signature = this.#signature(credentials, request.region, amzDate, scope, canonicalRequest);
    return `${request.origin}${request.path}?${query}&X-Amz-Signature=${signature}`;
  }
}

/** The authentication parameters every presigned URL starts with, in canonical order, up to the signed headers. */
function authQuery(credentials: SigningCredentials, scope: string, amzDate: string, expiresIn: number): string {
  let query =
    `X-Amz-Algorithm=${ALGORITHM}` +
    `&X-Amz-Credential=${uriEncode(`${credentials.accessKeyId}/${scope}`)}` +
    `&X-Amz-Date=${amzDate}` +
    `&X-Amz-Expires=${expiresIn}`;
  if (credentials.sessionToken) query += `&X-Amz-Security-Token=${uriEncode(credentials.sessionToken)}`;
  return query;
}

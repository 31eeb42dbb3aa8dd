import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";
import type { UrlOptions } from "../types";
import { contentDisposition } from "./contentDisposition";

/** Query parameters a signature covers, in canonical (sorted) order. */
const EXPIRES = "expires";
const SIGNATURE = "signature";
const DISPOSITION = "response-content-disposition";
const CONTENT_TYPE = "response-content-type";
/** Present only in upload URLs (`signUpload`): the exact byte count the PUT must carry. */
const UPLOAD_SIZE = "upload-size";
/** Present in upload URLs that may replace an existing file (`"1"`). */
const UPLOAD_OVERWRITE = "upload-overwrite";
/** An HMAC-SHA256 in unpadded base64url: 43 characters, the last of which carries 2 unused bits (0). */
const SIGNATURE_TEXT = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
/**
 * The longest lifetime a signed URL may have, in seconds (about 1,000 years): its `expires` must stay
 * within the 15 digits `verify` reads, or the URL would never work.
 */
export const MAX_EXPIRES_IN = 1000 * 365 * 24 * 3600;

/** Throws `RangeError` unless `expiresIn` is a positive number of seconds up to `MAX_EXPIRES_IN`. */
export function checkExpiresIn(expiresIn: number): void {
  if (!Number.isFinite(expiresIn) || expiresIn <= 0 || expiresIn > MAX_EXPIRES_IN) {
    throw new RangeError(
      `expiresIn must be a positive number of seconds up to ${MAX_EXPIRES_IN} (about 1,000 years), got ${expiresIn}.`,
    );
  }
}

/** Throws `TypeError` unless `contentType` is a plain header value (printable ASCII, no line breaks). */
export function checkContentTypeOverride(contentType: string): void {
  if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(contentType)) {
    throw new TypeError(`contentType ${JSON.stringify(contentType)} is not a valid header value.`);
  }
}

/** Options of `UrlSigner`. */
export interface UrlSignerOptions {
  /** The clock, in milliseconds since the epoch (default `Date.now`); tests inject one. */
  now?: () => number;
}

/** What `verify` concluded: the signed overrides when valid, else why not. */
export type SignatureCheck =
  | {
      valid: true;
      expires: number;
      contentDisposition: string | null;
      contentType: string | null;
      /** Set for an upload URL (`signUpload`): what the PUT may write. Null for a download URL. */
      upload: { size: number; overwrite: boolean } | null;
    }
  | { valid: false; reason: "missing" | "invalid" | "expired" };

/**
 * Signs and verifies local file URLs: `?expires=<unix seconds>&signature=<base64url HMAC-SHA256>`.
 * The signature covers the percent-encoded URL path, the expiry and every other query parameter
 * (the response overrides), so changing or adding any of them invalidates it. The HMAC key object
 * is built once; signing is a few microseconds and synchronous.
 */
export class UrlSigner {
  readonly #key: KeyObject;
  readonly #now: () => number;

  /** Throws `TypeError` for an empty secret; length policy is the caller's (`FileSystemStorage` wants 32 bytes). */
  constructor(secret: string | Buffer, options: UrlSignerOptions = {}) {
    const bytes = typeof secret === "string" ? Buffer.from(secret, "utf8") : secret;
    if (bytes.length === 0) throw new TypeError("The signing secret must not be empty.");
    this.#key = createSecretKey(bytes);
    this.#now = options.now ?? Date.now;
  }

  /**
   * Returns the query string (without `?`) that authorises `path` for `expiresIn` seconds, with the
   * `download` / `contentType` overrides of `options`. Throws `RangeError` for a non-positive expiry
   * and `TypeError` for a content type that is not a plain header value.
   */
  sign(path: string, expiresIn: number, options: Pick<UrlOptions, "download" | "contentType"> = {}): string {
    const params: [string, string][] = [[EXPIRES, this.#expires(expiresIn)]];
    if (options.download !== undefined) params.push([DISPOSITION, contentDisposition(options.download)]);
    if (options.contentType !== undefined) {
      checkContentTypeOverride(options.contentType);
      params.push([CONTENT_TYPE, options.contentType]);
    }
    const query = canonicalQuery(params);
    return `${query}&${SIGNATURE}=${this.#mac(path, query)}`;
  }

  /**
   * Returns the query string (without `?`) that lets one PUT of exactly `size` bytes write `path` for
   * `expiresIn` seconds, replacing an existing file only with `overwrite`. `serveFiles` takes such a
   * URL for PUT only, and refuses it for GET. Throws `RangeError` for a bad expiry or size.
   */
  signUpload(path: string, expiresIn: number, upload: { size: number; overwrite: boolean }): string {
    if (!Number.isSafeInteger(upload.size) || upload.size < 0)
      throw new RangeError(`The upload size must be a whole number of bytes, got ${upload.size}.`);
    const params: [string, string][] = [[EXPIRES, this.#expires(expiresIn)]];
    if (upload.overwrite) params.push([UPLOAD_OVERWRITE, "1"]);
    params.push([UPLOAD_SIZE, String(upload.size)]);
    const query = canonicalQuery(params);
    return `${query}&${SIGNATURE}=${this.#mac(path, query)}`;
  }

  #expires(expiresIn: number): string {
    checkExpiresIn(expiresIn);
    return String(Math.floor(this.#now() / 1000) + Math.ceil(expiresIn));
  }

  /**
   * Checks the query string of a request for `path` (the canonical percent-encoded path). Returns the
   * signed overrides when the signature is intact and unexpired; never throws. The comparison is
   * constant-time.
   */
  verify(path: string, query: string): SignatureCheck {
    const params: [string, string][] = [];
    let signature: string | null = null;
    for (const [name, value] of new URLSearchParams(query)) {
      if (name === SIGNATURE) {
        if (signature !== null) return { valid: false, reason: "invalid" };
        signature = value;
      } else {
        params.push([name, value]);
      }
    }
    if (signature === null) return { valid: false, reason: "missing" };
    const names = params.map(([name]) => name);
    if (new Set(names).size !== names.length) return { valid: false, reason: "invalid" };
    params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    // exactly the 43 characters sign() writes: Buffer's base64url decoder would also take padding,
    // stray characters, the +/ alphabet and a changed last character, so one URL could be spelt many ways
    if (!SIGNATURE_TEXT.test(signature)) return { valid: false, reason: "invalid" };
    const expected = Buffer.from(this.#mac(path, canonicalQuery(params)), "base64url");
    const given = Buffer.from(signature, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { valid: false, reason: "invalid" };
    const get = (name: string) => params.find(([n]) => n === name)?.[1] ?? null;
    const expiresText = get(EXPIRES);
    if (expiresText === null || !/^\d{1,15}$/.test(expiresText)) return { valid: false, reason: "invalid" };
    const expires = Number(expiresText);
    if (expires * 1000 <= this.#now()) return { valid: false, reason: "expired" };
    const sizeText = get(UPLOAD_SIZE);
    const overwrite = get(UPLOAD_OVERWRITE);
    let upload: { size: number; overwrite: boolean } | null = null;
    if (sizeText !== null) {
      if (!/^\d{1,15}$/.test(sizeText) || (overwrite !== null && overwrite !== "1"))
        return { valid: false, reason: "invalid" };
      upload = { size: Number(sizeText), overwrite: overwrite === "1" };
    } else if (overwrite !== null) return { valid: false, reason: "invalid" };
    return { valid: true, expires, contentDisposition: get(DISPOSITION), contentType: get(CONTENT_TYPE), upload };
  }

  /** Seconds from now until `expires` (unix seconds), never negative. */
  secondsUntil(expires: number): number {
    return Math.max(0, expires - Math.floor(this.#now() / 1000));
  }

  #mac(path: string, query: string): string {
    return createHmac("sha256", this.#key).update(`${path}\n${query}`).digest("base64url");
  }
}

/** `name=value` pairs, both percent-encoded, joined by `&` in the order given (callers pass them sorted). */
function canonicalQuery(params: [string, string][]): string {
  return params.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join("&");
}

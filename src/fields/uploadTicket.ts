import { createHmac, type KeyObject, timingSafeEqual } from "node:crypto";

/** What a direct-upload ticket vouches for: the server chose this key, size and type for this field. */
export interface UploadTicketClaims {
  /** `Entity.property` of the field the upload is for. */
  field: string;
  /** The storage's registered name (null for an unnamed storage instance). */
  storage: string | null;
  key: string;
  size: number;
  contentType: string;
  /** The `Content-Encoding` the upload was signed with (null: none, the usual case). */
  contentEncoding: string | null;
  /** The multipart upload to complete before attaching (`createMultipartUpload`); null for one PUT. */
  uploadId: string | null;
  /** Its part size, which says how many parts the completion must list; null for one PUT. */
  partSize: number | null;
  /** Unix seconds after which the ticket no longer attaches. */
  expires: number;
}

const PREFIX = "ut1.";
const MAC = /^[A-Za-z0-9_-]{43}$/;

/**
 * Signs `claims` into an opaque, URL-safe ticket (`ut1.<claims>.<HMAC-SHA256>`, base64url). The
 * claims are readable by whoever holds the ticket (they name a key and a size the uploader knows
 * anyway); only the server can make or change one.
 */
export function signUploadTicket(claims: UploadTicketClaims, key: KeyObject): string {
  const body = Buffer.from(
    JSON.stringify([
      claims.field,
      claims.storage,
      claims.key,
      claims.size,
      claims.contentType,
      claims.contentEncoding,
      claims.uploadId,
      claims.partSize,
      claims.expires,
    ]),
  ).toString("base64url");
  return `${PREFIX}${body}.${mac(key, body)}`;
}

/**
 * Reads a ticket made by `signUploadTicket` with the same key. Returns its claims, or why it cannot be
 * used: `invalid` (not a ticket, forged or altered) or `expired`. Never throws; compares in constant time.
 */
export function readUploadTicket(
  ticket: unknown,
  key: KeyObject,
  now = Date.now(),
): { ok: true; claims: UploadTicketClaims } | { ok: false; reason: "invalid" | "expired" } {
  const invalid = { ok: false, reason: "invalid" } as const;
  if (typeof ticket !== "string" || !ticket.startsWith(PREFIX) || ticket.length > 16_384) return invalid;
  const dot = ticket.lastIndexOf(".");
  const body = ticket.slice(PREFIX.length, dot);
  const given = ticket.slice(dot + 1);
  if (dot < PREFIX.length || !MAC.test(given)) return invalid;
  const expected = mac(key, body);
  // the text comparison after the constant-time one refuses the other spellings of the last character
  if (!timingSafeEqual(Buffer.from(given, "base64url"), Buffer.from(expected, "base64url")) || expected !== given)
    return invalid;
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    return invalid;
  }
  if (!Array.isArray(fields) || fields.length !== 9) return invalid;
  const [field, storage, objectKey, size, contentType, contentEncoding, uploadId, partSize, expires] = fields;
  if (
    typeof field !== "string" ||
    (storage !== null && typeof storage !== "string") ||
    typeof objectKey !== "string" ||
    !Number.isSafeInteger(size) ||
    typeof contentType !== "string" ||
    (contentEncoding !== null && typeof contentEncoding !== "string") ||
    (uploadId !== null && typeof uploadId !== "string") ||
    (partSize !== null && !(Number.isSafeInteger(partSize) && partSize > 0)) ||
    !Number.isSafeInteger(expires)
  )
    return invalid;
  if (expires * 1000 <= now) return { ok: false, reason: "expired" };
  return {
    ok: true,
    claims: { field, storage, key: objectKey, size, contentType, contentEncoding, uploadId, partSize, expires },
  };
}

function mac(key: KeyObject, body: string): string {
  return createHmac("sha256", key).update(`${PREFIX}${body}`).digest("base64url");
}

import { InvalidKeyError } from "../errors/InvalidKeyError";

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * A UTF-16 surrogate without its pair (`"\uD800"` is valid JSON, so it can come from a request body).
 * It has no UTF-8 form: the file system would be given U+FFFD (two keys, one file), `url()` would throw
 * `URIError`, S3 would store another name than the one saved.
 */
const LONE_SURROGATE = /\p{Cs}/u;

/** The longest key, in UTF-8 bytes, that S3 accepts; every storage enforces it so keys stay portable. */
export const MAX_KEY_BYTES = 1024;

/**
 * One or more `/`-separated segments, none empty, `.` or `..`, without backslashes, control characters
 * or lone surrogates: every rule below but the byte limit, in one pass without allocating. The `u` flag
 * reads a surrogate pair as one code point, so only a lone half is `\p{Cs}`; it costs nothing measurable.
 */
const VALID_KEY =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /^(?!\.\.?(?:\/|$))[^/\\\u0000-\u001f\u007f\p{Cs}]+(?:\/(?!\.\.?(?:\/|$))[^/\\\u0000-\u001f\u007f\p{Cs}]+)*$/u;

/** A UTF-16 code unit takes at most 3 UTF-8 bytes, so keys this short can skip `Buffer.byteLength`. */
const SHORT_KEY = Math.floor(MAX_KEY_BYTES / 3);

/**
 * Returns `key` unchanged when it is a safe relative key; throws `InvalidKeyError` for an empty key, an
 * absolute path, a backslash, NUL or control characters, an unpaired UTF-16 surrogate, `.`/`..`/empty
 * segments, a trailing slash, or more than 1024 UTF-8 bytes. Nothing that passes can address anything outside a storage's root.
 * `limitBytes: false` leaves the byte limit out, for a name about to be shortened to a `maxLength`
 * (the shortened name is then checked in full).
 */
export function validateKey(key: unknown, storage?: string | null, limitBytes = true): string {
  // The fast path runs on every url() and every storage call; it accepts exactly what the checks below
  // accept (test/unit/fastPaths.test.ts compares both), and anything else takes the slow path to get
  // its precise message.
  if (typeof key === "string" && key.length <= SHORT_KEY && VALID_KEY.test(key)) return key;
  const fail = (why: string) =>
    new InvalidKeyError(`Invalid key ${JSON.stringify(key)}: ${why}.`, {
      key: typeof key === "string" ? key : null,
      storage,
    });
  if (typeof key !== "string") throw fail("a key must be a string");
  if (key.length === 0) throw fail("a key must not be empty");
  if (CONTROL.test(key)) throw fail("NUL and control characters are not allowed");
  if (LONE_SURROGATE.test(key))
    throw fail(
      "unpaired UTF-16 surrogates cannot be stored (they are not UTF-8): replace them before building the key",
    );
  if (key.includes("\\")) throw fail("backslashes are not allowed; use '/' between directories");
  if (key.startsWith("/")) throw fail("absolute paths are not allowed; keys are relative to the storage");
  if (key.endsWith("/")) throw fail("a key names a file, so it must not end with '/'");
  for (const segment of key.split("/")) {
    if (segment === "") throw fail("empty path segments ('//') are not allowed");
    if (segment === "." || segment === "..") throw fail("'.' and '..' segments are not allowed");
  }
  if (limitBytes && Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES)
    throw fail(`keys are limited to ${MAX_KEY_BYTES} UTF-8 bytes`);
  return key;
}

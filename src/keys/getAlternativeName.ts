import { randomBytes } from "node:crypto";
import { InvalidKeyError } from "../errors/InvalidKeyError";

const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

function randomSuffix(length = 7): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

/** Splits `dir/name.ext` into `["dir/", "name", ".ext"]` (Django's `os.path.splitext` on the basename). */
export function splitKey(key: string): [dir: string, stem: string, ext: string] {
  const slash = key.lastIndexOf("/");
  const dir = key.slice(0, slash + 1);
  const base = key.slice(slash + 1);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? [dir, base.slice(0, dot), base.slice(dot)] : [dir, base, ""];
}

/** Length in characters (code points), as PostgreSQL and MariaDB count a varchar. */
export function keyLength(key: string): number {
  let n = 0;
  for (const _ of key) n++;
  return n;
}

/**
 * Returns `dir/stem_XXXXXXX.ext` with 7 random characters (Django's `get_alternative_name`; `suffix`
 * others), truncating the stem so the result fits `maxLength`; throws `InvalidKeyError` when no stem
 * would be left.
 */
export function getAlternativeName(key: string, maxLength?: number, suffix = 7): string {
  const [dir, stem, ext] = splitKey(key);
  let root = [...stem];
  let candidate = `${dir}${root.join("")}_${randomSuffix(suffix)}${ext}`;
  if (maxLength !== undefined) {
    const excess = keyLength(candidate) - maxLength;
    if (excess > 0) {
      root = root.slice(0, Math.max(0, root.length - excess));
      if (root.length === 0) {
        throw new InvalidKeyError(
          `Cannot find an available name for ${JSON.stringify(key)} within ${maxLength} characters: ` +
            "raise the field's maxLength or shorten uploadTo.",
          { key },
        );
      }
      candidate = `${dir}${root.join("")}_${randomSuffix(suffix)}${ext}`;
    }
  }
  return candidate;
}

import { randomBytes } from "node:crypto";
import { InvalidKeyError } from "../errors/InvalidKeyError";

const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

function randomSuffix(length = 7): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

/**
 * Splits `dir/name.tar.gz` into `["dir/", "name", ".tar.gz"]`: the extension is every suffix, from the
 * first dot after the name's leading dots (Django 5.1+, `"".join(PurePath(name).suffixes)`), so
 * `.bashrc` has none and `v1.2.3.tar.gz` has `.2.3.tar.gz`. A trailing dot counts as a suffix, as in
 * Python 3.14's pathlib (`a.` gives `a_XXXXXXX.`; Django on Python 3.13 and older gives `a._XXXXXXX`).
 */
export function splitKey(key: string): [dir: string, stem: string, ext: string] {
  const slash = key.lastIndexOf("/");
  const dir = key.slice(0, slash + 1);
  const base = key.slice(slash + 1);
  let leading = 0;
  while (base[leading] === ".") leading++;
  const dot = base.indexOf(".", leading);
  return dot === -1 ? [dir, base, ""] : [dir, base.slice(0, dot), base.slice(dot)];
}

/** Length in characters (code points), as PostgreSQL and MariaDB count a varchar. */
export function keyLength(key: string): number {
  let n = 0;
  for (const _ of key) n++;
  return n;
}

/**
 * Returns `dir/stem_XXXXXXX.ext` with 7 random characters (Django's `get_alternative_name`; `suffix`
 * others) before all the extensions `splitKey` finds (`a_XXXXXXX.tar.gz`), truncating the stem so the
 * result fits `maxLength`; throws `InvalidKeyError` when no stem would be left.
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

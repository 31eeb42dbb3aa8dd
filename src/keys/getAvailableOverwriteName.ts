import { InvalidKeyError } from "../errors/InvalidKeyError";
import { keyLength, splitKey } from "./getAlternativeName";

/**
 * `key` itself when it fits `maxLength`, else `key` with its stem shortened to fit, directory and
 * every extension kept (`splitKey`), as Django 5.1+ shortens a name for a `FileSystemStorage` with
 * `allow_overwrite` (django-storages' `get_available_overwrite_name` still keeps only the last one).
 * Throws `InvalidKeyError` when the directory and extensions alone are too long.
 */
export function getAvailableOverwriteName(key: string, maxLength: number): string {
  const excess = keyLength(key) - maxLength;
  if (excess <= 0) return key;
  const [dir, stem, ext] = splitKey(key);
  const root = [...stem].slice(0, -excess);
  if (root.length === 0) {
    throw new InvalidKeyError(
      `${JSON.stringify(key)} cannot be shortened to ${maxLength} characters: its directory and extension ` +
        "alone are too long. Raise the field's maxLength or shorten uploadTo.",
      { key },
    );
  }
  return `${dir}${root.join("")}${ext}`;
}

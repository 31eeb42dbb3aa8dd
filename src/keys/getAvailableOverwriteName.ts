import { InvalidKeyError } from "../errors/InvalidKeyError";
import { keyLength, splitKey } from "./getAlternativeName";

/**
 * `key` itself when it fits `maxLength`, else `key` with its stem shortened to fit, directory and
 * extension kept (django-storages' `get_available_overwrite_name`, for storages that overwrite).
 * Throws `InvalidKeyError` when the directory and extension alone are too long.
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

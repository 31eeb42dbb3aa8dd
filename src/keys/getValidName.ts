import { InvalidKeyError } from "../errors/InvalidKeyError";

const UNSAFE = /[^-\p{L}\p{N}\p{M}_.]/gu;

/**
 * Reduces a user-supplied filename to a safe basename, as Django's `get_valid_filename` does: the
 * directory part is dropped (both `/` and `\`), spaces become `_`, and anything but letters, digits,
 * `-`, `_` and `.` is removed. Throws `InvalidKeyError` when nothing usable is left (`""`, `.`, `..`).
 */
export function getValidName(filename: string): string {
  const base = String(filename).split(/[\\/]/).pop() ?? "";
  const cleaned = base.normalize("NFC").trim().replace(/\s+/g, "_").replace(UNSAFE, "");
  if (cleaned === "" || cleaned === "." || cleaned === "..") {
    throw new InvalidKeyError(`Could not derive a valid file name from ${JSON.stringify(filename)}.`, {
      key: String(filename),
    });
  }
  return cleaned;
}

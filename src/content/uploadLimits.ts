import path from "node:path";
import { Transform } from "node:stream";
import { StorageConfigError } from "../errors/StorageConfigError";
import { mediaType } from "./guessContentType";

/**
 * Checks `maxSize` and `accept` as `save()` and `@FileColumn` take them: a byte count from 0, and
 * entries like the HTML `accept` attribute's (`image/*`, `application/pdf`, `.pdf`). Throws
 * `StorageConfigError` naming `where` and the bad value.
 */
export function checkUploadLimits(where: string, maxSize: number | undefined, accept: readonly string[] | undefined) {
  if (maxSize !== undefined && !(Number.isSafeInteger(maxSize) && maxSize >= 0))
    throw new StorageConfigError(`${where}: maxSize must be a whole number of bytes, not ${JSON.stringify(maxSize)}.`);
  if (accept === undefined) return;
  if (!Array.isArray(accept) || accept.length === 0)
    throw new StorageConfigError(`${where}: accept must be a non-empty array, like ["image/*", ".pdf"].`);
  for (const entry of accept) {
    const ok =
      typeof entry === "string" && /^(?:\.[^/\s]*[^./\s]|[a-z0-9!#$&^_.+-]+\/(?:\*|[a-z0-9!#$&^_.+-]+))$/i.test(entry);
    if (!ok)
      throw new StorageConfigError(
        `${where}: accept entry ${JSON.stringify(entry)} is neither a content type ("image/png", "image/*") ` +
          'nor an extension (".pdf").',
      );
  }
}

/**
 * Whether a file named `name`, stored as `contentType`, is one `accept` allows: its content type
 * matches a type entry (`image/*` any image), or its name ends with a `.ext` entry (`.tar.gz` too),
 * case aside. An extension entry says nothing of the type stored: list types where that matters.
 */
export function isAccepted(accept: readonly string[], name: string, contentType: string): boolean {
  const type = mediaType(contentType);
  const base = path.posix.basename(name).toLowerCase();
  return accept.some((entry) => {
    const e = entry.toLowerCase();
    // ".tar.gz" too; a name that is only the extension (".pdf") has none
    if (e.startsWith(".")) return base.endsWith(e) && base.length > e.length;
    return e.endsWith("/*") ? type.startsWith(e.slice(0, -1)) : type === e;
  });
}

/**
 * A pass-through that fails with `tooLarge()` once more than `maxSize` bytes went through it, so an
 * upload of unknown length stops there and the driver removes what it wrote.
 */
export function sizeLimit(maxSize: number, tooLarge: () => Error): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      callback(seen > maxSize ? tooLarge() : null, chunk);
    },
  });
}

import path from "node:path";

/** Hex digits of the MD5 in a hashed name, as Django's `ManifestStaticFilesStorage`. */
export const STATIC_HASH_LENGTH = 12;

/**
 * `name` with `hash` before its extension, as Django's `hashed_name` places it: `css/site.css` gives
 * `css/site.<hash>.css`, `LICENSE` gives `LICENSE.<hash>`, `a.tar.gz` gives `a.tar.<hash>.gz`.
 */
export function hashedStaticName(name: string, hash: string): string {
  const ext = path.posix.extname(name.slice(name.lastIndexOf("/") + 1));
  return `${name.slice(0, name.length - ext.length)}.${hash}${ext}`;
}

const HASHED = new RegExp(`\\.[0-9a-f]{${STATIC_HASH_LENGTH}}(?:\\.[^./]+)?$`);

/** Whether the last segment of `name` looks like a `hashedStaticName` (12 hex digits before the extension). */
export function isHashedStaticName(name: string): boolean {
  return HASHED.test(name.slice(name.lastIndexOf("/") + 1));
}

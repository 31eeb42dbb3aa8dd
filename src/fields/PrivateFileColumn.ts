import { type FileColumnOptions, fileColumn } from "./FileColumn";

/**
 * A `@FileColumn` on the storage named "private", whose URLs are always signed and expiring. Using it
 * without a "private" storage configured throws `StorageConfigError`; it never falls back to a public
 * storage.
 */
export function PrivateFileColumn(options: Omit<FileColumnOptions, "storage"> = {}): PropertyDecorator {
  return fileColumn("private", options, true);
}

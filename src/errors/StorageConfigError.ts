import { FileStorageError, type FileStorageErrorOptions } from "./FileStorageError";

/** A storage is unknown, misconfigured, or needs a package or a setting it does not have. */
export class StorageConfigError extends FileStorageError {
  constructor(message: string, options: FileStorageErrorOptions = {}) {
    super("STORAGE_CONFIG", message, options);
  }
}

import { FileStorageError, type FileStorageErrorOptions } from "./FileStorageError";

/** The object a read, size or stat asked for does not exist in the storage. */
export class FileNotFoundError extends FileStorageError {
  constructor(message: string, options: FileStorageErrorOptions = {}) {
    super("FILE_NOT_FOUND", message, options);
  }
}

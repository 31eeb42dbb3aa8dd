import { FileStorageError, type FileStorageErrorOptions } from "./FileStorageError";

/** A key or filename was refused: traversal, absolute path, control characters, too long, or empty. */
export class InvalidKeyError extends FileStorageError {
  constructor(message: string, options: FileStorageErrorOptions = {}) {
    super("INVALID_KEY", message, options);
  }
}

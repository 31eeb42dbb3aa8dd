import { FileStorageError, type FileStorageErrorOptions } from "./FileStorageError";

/** A `FieldFile` with no file was asked for bytes, a size or a URL. */
export class EmptyFileFieldError extends FileStorageError {
  constructor(message: string, options: FileStorageErrorOptions = {}) {
    super("EMPTY_FILE_FIELD", message, options);
  }
}

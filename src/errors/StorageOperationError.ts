import { FileStorageError, type FileStorageErrorOptions } from "./FileStorageError";

/** What the storage was doing when it failed. */
export type StorageOperation = "save" | "read" | "stat" | "exists" | "delete" | "list" | "url" | "copy" | "upload";

/** Any other failure of a storage operation; `operation` says which, `cause` holds the backend's error. */
export class StorageOperationError extends FileStorageError {
  readonly operation: StorageOperation;

  constructor(operation: StorageOperation, message: string, options: FileStorageErrorOptions = {}) {
    super("STORAGE_OPERATION", message, options);
    this.operation = operation;
  }
}

/** Machine-readable error codes; stable across releases. */
export type FileStorageErrorCode =
  | "STORAGE_CONFIG"
  | "INVALID_KEY"
  | "FILE_NOT_FOUND"
  | "EMPTY_FILE_FIELD"
  | "FILE_VALIDATION"
  | "STORAGE_OPERATION";

export interface FileStorageErrorOptions {
  key?: string | null;
  storage?: string | null;
  cause?: unknown;
}

/**
 * Base class of every error this package throws on purpose. Carries a stable `code`, the `key`
 * and `storage` involved (when known) and the original error in `cause`.
 */
export class FileStorageError extends Error {
  readonly code: FileStorageErrorCode;
  readonly key: string | null;
  readonly storage: string | null;

  constructor(code: FileStorageErrorCode, message: string, options: FileStorageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.key = options.key ?? null;
    this.storage = options.storage ?? null;
  }
}

/** Returns true for any error thrown by this package, across module copies (checks `name` too). */
export function isFileStorageError(error: unknown): error is FileStorageError {
  if (error instanceof FileStorageError) return true;
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { code?: unknown }).code === "string" &&
    [
      "FileStorageError",
      "StorageConfigError",
      "InvalidKeyError",
      "FileNotFoundError",
      "EmptyFileFieldError",
      "FileValidationError",
      "StorageOperationError",
    ].includes((error as Error).name)
  );
}

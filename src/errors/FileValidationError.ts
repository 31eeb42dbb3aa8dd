import { FileStorageError, type FileStorageErrorOptions } from "./FileStorageError";

/** The validation rule an upload broke: `maxSize` (too large) or `accept` (type or extension not allowed). */
export type FileValidationRule = "maxSize" | "accept";

export interface FileValidationErrorOptions extends FileStorageErrorOptions {
  rule: FileValidationRule;
}

/**
 * An upload was refused by the limits its field or `save()` call sets (`maxSize`, `accept`); nothing
 * was stored. Show its message to the uploader (an HTTP 400 or 413): it says what is allowed.
 */
export class FileValidationError extends FileStorageError {
  readonly rule: FileValidationRule;

  constructor(message: string, options: FileValidationErrorOptions) {
    super("FILE_VALIDATION", message, options);
    this.rule = options.rule;
  }
}

import { FileStorageError, type FileStorageErrorOptions } from "./FileStorageError";

/**
 * The validation rule an upload broke: `maxSize` (too large), `accept` (type or extension not allowed),
 * and for direct uploads `size` (the declared size is no byte count), `ticket` (an upload ticket that is
 * forged, expired or for another field) and `upload` (no file arrived, or not the one announced).
 */
export type FileValidationRule = "maxSize" | "accept" | "size" | "ticket" | "upload";

export interface FileValidationErrorOptions extends FileStorageErrorOptions {
  rule: FileValidationRule;
}

/**
 * An upload was refused by the limits its field or `save()` call sets (`maxSize`, `accept`), or a
 * direct upload's ticket or file did not hold up (`rule` says which); nothing was stored or kept. Show its message to the uploader (an HTTP 400 or 413): it says what is allowed.
 */
export class FileValidationError extends FileStorageError {
  readonly rule: FileValidationRule;

  constructor(message: string, options: FileValidationErrorOptions) {
    super("FILE_VALIDATION", message, options);
    this.rule = options.rule;
  }
}

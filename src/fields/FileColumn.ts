import { Column, type ColumnOptions } from "typeorm";
import { checkUploadLimits } from "../content/uploadLimits";
import { InvalidKeyError } from "../errors/InvalidKeyError";
import { StorageConfigError } from "../errors/StorageConfigError";
import { normalizeKey } from "../keys/normalizeKey";
import { validateKey } from "../keys/validateKey";
import { Storage } from "../storage/Storage";
import { FileColumnTransformer } from "./FileColumnTransformer";
import type { FileFieldDefinition, StorageReference, UploadTo } from "./FileFieldDefinition";
import { registerFileField } from "./fileFields";
import { inDirectory } from "./generateKey";
import { installFileAccessor } from "./installFileAccessor";
import { strftime, unexpandedToken } from "./strftime";

/** Options of `@FileColumn` / `@PrivateFileColumn`; any other TypeORM column option passes through. */
export interface FileColumnOptions<Entity = any>
  extends Omit<ColumnOptions, "type" | "length" | "nullable" | "transformer" | "default"> {
  /** The storage: a registered name (default "default"), a Storage, or a function returning one. */
  storage?: StorageReference;
  /** Where uploads go: a strftime template (`"documents/%Y/%m/"`, UTC) or `(entity, filename) => key`. */
  uploadTo?: UploadTo<Entity>;
  /** Longest key, and the varchar length of the column (default 255). */
  maxLength?: number;
  /** Default true. With false an empty field is stored as "" (Django's convention). */
  nullable?: boolean;
  /** Keep replaced and removed files instead of deleting them after commit (default false). */
  keepFiles?: boolean;
  /**
   * Store html, svg and xml uploads without `Content-Disposition: attachment` (default false). Only for
   * trusted uploaders: such files can run script on the origin that serves them. Storages that keep
   * no per-object headers (local disk) decide by their own `allowUnsafeInline` when serving.
   */
  allowUnsafeInline?: boolean;
  /**
   * Largest file `field.save()` accepts, in bytes: a bigger one throws `FileValidationError` and
   * nothing is stored (a stream is stopped at the limit). Default: no limit. Check the size your HTTP
   * layer lets through as well (busboy's `limits.fileSize`, multer's `limits`).
   */
  maxSize?: number;
  /**
   * What `field.save()` accepts, like the HTML `accept` attribute: content types (`"image/*"`,
   * `"application/pdf"`) matched against the type the file is stored with, and extensions (`".pdf"`).
   * Anything else throws `FileValidationError` before a byte is written. Default: any file. The type
   * is the `contentType` passed to `save()`, else the content's own (a browser's claim, for multer
   * files and Blobs), else the name's: pass one derived from the name when the uploader is not trusted.
   */
  accept?: readonly string[];
}

/** @internal Shared by both decorators. */
export function fileColumn(
  storage: StorageReference,
  options: FileColumnOptions,
  isPrivate: boolean,
): PropertyDecorator {
  const {
    storage: _ignored,
    uploadTo = "",
    maxLength = 255,
    nullable = true,
    keepFiles = false,
    allowUnsafeInline = false,
    maxSize,
    accept,
    ...column
  } = options;
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new StorageConfigError(`maxLength must be a positive integer, not ${JSON.stringify(maxLength)}.`);
  }
  checkUploadLimits("@FileColumn", maxSize, accept);
  if (typeof uploadTo === "string") checkUploadToTemplate(uploadTo);
  return (target: object, propertyKey: string | symbol) => {
    if (typeof propertyKey !== "string") {
      throw new StorageConfigError("File columns must be declared on string-named properties.");
    }
    const field: FileFieldDefinition = Object.freeze({
      target: target.constructor,
      propertyName: propertyKey,
      storage,
      uploadTo,
      maxLength,
      nullable,
      keepFiles,
      allowUnsafeInline,
      isPrivate,
      maxSize,
      accept: accept === undefined ? undefined : Object.freeze([...accept]),
    });
    registerFileField(field);
    Column({
      ...column,
      type: "varchar",
      length: maxLength,
      nullable,
      ...(nullable ? {} : { default: "" }),
      transformer: new FileColumnTransformer(nullable),
    })(target, propertyKey);
    installFileAccessor(target, field);
  };
}

/**
 * Refuses, when the class is declared, an `uploadTo` template every save would fail with or get wrong:
 * a `%` token `strftime` leaves in the key as it is (Django's strftime knows `%y`, `%j`, `%B`...), or
 * a directory no key can begin with once tidied as `generateFilename` tidies it (absolute, `..`).
 */
function checkUploadToTemplate(uploadTo: string): void {
  const token = unexpandedToken(uploadTo);
  if (token !== null)
    throw new StorageConfigError(
      `@FileColumn: uploadTo ${JSON.stringify(uploadTo)} has ${token}, which is not expanded: use %Y %m %d %H %M %S, ` +
        'or %% for a "%"; for anything else, give uploadTo as a function (entity, filename) => key.',
    );
  try {
    validateKey(normalizeKey(inDirectory(strftime(uploadTo), "x")));
  } catch (error) {
    if (!(error instanceof InvalidKeyError)) throw error;
    throw new StorageConfigError(
      `@FileColumn: uploadTo ${JSON.stringify(uploadTo)} cannot begin a key: ${error.message} ` +
        'Give a relative directory, like "documents/%Y/%m/".',
      { cause: error },
    );
  }
}

/**
 * Declares a file property stored as a varchar key column. `storage` is a storage name (default
 * "default"), a Storage, or a function returning one, resolved at each use. Reading the property
 * always yields a `FieldFile`.
 */
export function FileColumn(options?: FileColumnOptions): PropertyDecorator;
export function FileColumn(storage: StorageReference, options?: FileColumnOptions): PropertyDecorator;
export function FileColumn(
  storageOrOptions?: StorageReference | FileColumnOptions,
  options: FileColumnOptions = {},
): PropertyDecorator {
  const isOptions =
    typeof storageOrOptions === "object" && storageOrOptions !== null && !(storageOrOptions instanceof Storage);
  const opts = isOptions ? (storageOrOptions as FileColumnOptions) : options;
  const storage = isOptions || storageOrOptions === undefined ? (opts.storage ?? "default") : storageOrOptions;
  return fileColumn(storage as StorageReference, opts, false);
}

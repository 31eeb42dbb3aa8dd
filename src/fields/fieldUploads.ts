import type { KeyObject } from "node:crypto";
import { FileValidationError } from "../errors/FileValidationError";
import { getAlternativeName } from "../keys/getAlternativeName";
import type { Storage } from "../storage/Storage";
import type { FieldFileUploadOptions } from "./FieldFile";
import type { FileFieldDefinition } from "./FileFieldDefinition";
import { generateKey } from "./generateKey";
import { signUploadTicket } from "./uploadTicket";

/*
 * What a field's direct upload is made of, besides the storage's signed request: the key it goes
 * under, the limits it is signed with, and the ticket that attaches it (FieldFile.createUpload,
 * createMultipartUpload, attachUpload).
 */

/** How long after its URL expired a ticket still attaches: an upload started just before may take hours. */
const ATTACH_WINDOW = 6 * 3600;
/** Random characters in a direct upload's key: enough that no other name ever meets it (about 95 bits). */
const UPLOAD_TOKEN = 16;

/** How a ticket names a field: `Entity.property`. */
export const fieldId = (field: FileFieldDefinition) => `${field.target.name}.${field.propertyName}`;

export function ticketRefusal(
  field: FileFieldDefinition,
  storage: Storage,
  why: string,
  key: string | null = null,
): FileValidationError {
  return new FileValidationError(`Cannot attach the upload to ${fieldId(field)}: ${why}.`, {
    rule: "ticket",
    key,
    storage: storage.name,
  });
}

/**
 * A direct upload's key: built from `filename` as `save()` builds it, plus `_` and 16 random
 * characters, a name no other save or upload takes, so what arrives under it can only be this upload.
 */
export async function uploadKey(field: FileFieldDefinition, storage: Storage, entity: object, filename: string) {
  return getAlternativeName(await generateKey(field, storage, entity, filename), field.maxLength, UPLOAD_TOKEN);
}

/** The storage-level options of a field's direct upload: its limits, never replacing a file. */
export function uploadOptions(field: FileFieldDefinition, options: FieldFileUploadOptions) {
  return {
    size: options.size,
    contentType: options.contentType,
    expiresIn: options.expiresIn,
    overwrite: false,
    maxSize: field.maxSize,
    accept: field.accept,
    ...(field.allowUnsafeInline ? { contentDisposition: null } : {}),
  };
}

/** The ticket of a direct upload: what `attachUpload` will check the arrived file against. */
export function signTicket(
  field: FileFieldDefinition,
  storage: Storage,
  upload: { key: string; size: number; contentType: string; expiresAt: Date },
  contentEncoding: string | null,
  parts: { uploadId: string; partSize: number } | null,
  signingKey: KeyObject,
): string {
  return signUploadTicket(
    {
      field: fieldId(field),
      storage: storage.name,
      key: upload.key,
      size: upload.size,
      contentType: upload.contentType,
      contentEncoding,
      uploadId: parts?.uploadId ?? null,
      partSize: parts?.partSize ?? null,
      expires: Math.floor(upload.expiresAt.getTime() / 1000) + ATTACH_WINDOW,
    },
    signingKey,
  );
}

import { StorageConfigError } from "../../errors/StorageConfigError";
import type { S3ObjectParameters } from "./S3StorageOptions";

/** PutObject parameters sent as a header of their own, by the header S3 reads them from. */
const HEADERS: Readonly<Record<string, string>> = {
  ACL: "x-amz-acl",
  CacheControl: "cache-control",
  ContentDisposition: "content-disposition",
  ContentEncoding: "content-encoding",
  ContentLanguage: "content-language",
  ContentType: "content-type",
  GrantFullControl: "x-amz-grant-full-control",
  GrantRead: "x-amz-grant-read",
  GrantReadACP: "x-amz-grant-read-acp",
  GrantWriteACP: "x-amz-grant-write-acp",
  ServerSideEncryption: "x-amz-server-side-encryption",
  StorageClass: "x-amz-storage-class",
  WebsiteRedirectLocation: "x-amz-website-redirect-location",
  SSEKMSKeyId: "x-amz-server-side-encryption-aws-kms-key-id",
  SSEKMSEncryptionContext: "x-amz-server-side-encryption-context",
  RequestPayer: "x-amz-request-payer",
  Tagging: "x-amz-tagging",
  ObjectLockMode: "x-amz-object-lock-mode",
  ObjectLockLegalHoldStatus: "x-amz-object-lock-legal-hold",
  ExpectedBucketOwner: "x-amz-expected-bucket-owner",
};

/** Parameters a direct upload cannot carry, and why. */
const REFUSED: Readonly<Record<string, string>> = {
  SSECustomerAlgorithm: "the customer-provided encryption key (SSE-C) would be handed to the uploader",
  SSECustomerKey: "the customer-provided encryption key (SSE-C) would be handed to the uploader",
  SSECustomerKeyMD5: "the customer-provided encryption key (SSE-C) would be handed to the uploader",
};

/** A header value S3 and browsers accept as is: visible ASCII and spaces. */
const PLAIN = /^[\x20-\x7e]*$/;

/**
 * The headers of a PutObject with `params` (the storage's settings for the object, its content type
 * and disposition), for a presigned PUT that must carry them all: the signature covers each, so the
 * uploader can neither drop the ACL or encryption nor change the type. Throws `StorageConfigError` for a
 * parameter that cannot be handed to an uploader (an SSE-C key) or has no header (checksums, `ContentMD5`:
 * the body is not known when the URL is signed), and for a value that is not plain ASCII.
 */
export function putObjectHeaders(params: S3ObjectParameters, storage: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const set = (name: string, value: string, parameter: string) => {
    if (!PLAIN.test(value)) {
      throw new StorageConfigError(
        `${storage} cannot take direct uploads: its ${parameter} ${JSON.stringify(value)} is not plain ASCII, ` +
          "which an HTTP header must be.",
      );
    }
    headers[name] = value;
  };
  for (const [parameter, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const refusal = REFUSED[parameter];
    if (refusal !== undefined)
      throw new StorageConfigError(`${storage} cannot take direct uploads: ${refusal}. Upload through save() instead.`);
    const header = HEADERS[parameter];
    if (header !== undefined) set(header, String(value), parameter);
    else if (parameter === "Metadata") {
      for (const [name, text] of Object.entries(value as Record<string, string>))
        set(`x-amz-meta-${name.toLowerCase()}`, text, `metadata "${name}"`);
    } else if (parameter === "Expires") set("expires", (value as Date).toUTCString(), parameter);
    else if (parameter === "ObjectLockRetainUntilDate")
      set("x-amz-object-lock-retain-until-date", (value as Date).toISOString(), parameter);
    else if (parameter === "BucketKeyEnabled")
      set("x-amz-server-side-encryption-bucket-key-enabled", String(value), parameter);
    else {
      throw new StorageConfigError(
        `${storage} cannot take direct uploads: the object parameter ${parameter} has no place in a presigned ` +
          "PUT (it depends on the body, or only save() can send it). Remove it, or upload through save().",
      );
    }
  }
  return headers;
}

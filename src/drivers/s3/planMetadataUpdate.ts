import type { CopyObjectCommandInput, HeadObjectOutput } from "@aws-sdk/client-s3";
import { guessContentType, isUnsafeInline } from "../../content/guessContentType";
import { isGzipEncoded } from "./gunzipBody";
import { UNCOMPRESSED_SIZE } from "./gzipIfSmaller";
import type { S3ObjectParameters } from "./S3StorageOptions";

/** The headers of a CopyObject that rewrites an object onto itself (Bucket, Key and CopySource added by the caller). */
export type S3ReplacementHeaders = Omit<CopyObjectCommandInput, "Bucket" | "Key" | "CopySource">;

/** One header a sync changes; `from` is null when the object has none, undefined when HEAD cannot read it (ACLs). */
export interface S3HeaderChange {
  header: string;
  from: string | null | undefined;
  to: string | null;
}

/** What rewriting one object to the current settings sends, and what it changes (empty: up to date). */
export interface S3MetadataPlan {
  headers: S3ReplacementHeaders;
  changes: S3HeaderChange[];
}

/**
 * The object parameters a CopyObject carries over. Left out on purpose: ContentType and ContentEncoding
 * (per object, taken from the object itself), Tagging (TaggingDirective stays COPY, so tags are kept),
 * and what only makes sense with a body (checksum values, Content-MD5, conditional-write headers).
 */
const COPIED = [
  "ACL",
  "BucketKeyEnabled",
  "CacheControl",
  "ChecksumAlgorithm",
  "ContentDisposition",
  "ContentLanguage",
  "ExpectedBucketOwner",
  "Expires",
  "GrantFullControl",
  "GrantRead",
  "GrantReadACP",
  "GrantWriteACP",
  "Metadata",
  "ObjectLockLegalHoldStatus",
  "ObjectLockMode",
  "ObjectLockRetainUntilDate",
  "RequestPayer",
  "SSECustomerAlgorithm",
  "SSECustomerKey",
  "SSECustomerKeyMD5",
  "SSEKMSEncryptionContext",
  "SSEKMSKeyId",
  "ServerSideEncryption",
  "StorageClass",
  "WebsiteRedirectLocation",
] as const satisfies ReadonlyArray<keyof S3ObjectParameters & keyof S3ReplacementHeaders>;

/** Write-only headers: HEAD never returns them, so a configured one means every object is rewritten. */
const UNREADABLE = {
  ACL: "x-amz-acl",
  GrantFullControl: "x-amz-grant-full-control",
  GrantRead: "x-amz-grant-read",
  GrantReadACP: "x-amz-grant-read-acp",
  GrantWriteACP: "x-amz-grant-write-acp",
} as const;

/**
 * Metadata names as S3 returns them: lower case. Ceph RGW also turns `_` into `-`, so both spellings
 * compare equal (S3 itself keeps `_`; two names differing only there would be a strange choice).
 */
const metadataName = (name: string) => name.toLowerCase().replace(/_/g, "-");

/** The KMS key id of an id, `key/<id>` or key ARN; HEAD returns the ARN, settings often hold the bare id. */
const kmsKeyId = (key: string) => key.replace(/^arn:[^:]*:kms:[^:]*:[^:]*:/, "").replace(/^key\//, "");

const text = (value: string | Date | boolean | undefined | null): string | null =>
  value === undefined || value === null || value === ""
    ? null
    : value instanceof Date
      ? value.toUTCString()
      : String(value);

/**
 * Plans the rewrite of the object `name` (relative to the storage's location) from its HEAD result and
 * the headers the storage gives new objects (`S3Storage.getObjectParameters(name)`). What the settings
 * decide is replaced; what belongs to the object is kept: Content-Type, Content-Encoding, the original
 * size of a gzipped object, the `attachment` disposition forced on html/svg/xml (unless
 * `allowUnsafeInline`), and the storage class and encryption when the settings do not set them (a copy
 * without them would move the object to STANDARD and the bucket's default encryption). Pure; never throws.
 */
export function planMetadataUpdate(
  name: string,
  head: HeadObjectOutput,
  parameters: S3ObjectParameters,
  options: { allowUnsafeInline: boolean },
): S3MetadataPlan {
  const headers: S3ReplacementHeaders = {};
  const target = headers as Record<string, unknown>;
  for (const key of COPIED) if (parameters[key] !== undefined) target[key] = parameters[key];

  if (head.ContentType !== undefined) headers.ContentType = head.ContentType;
  if (head.ContentEncoding !== undefined) headers.ContentEncoding = head.ContentEncoding;
  if (!options.allowUnsafeInline && isUnsafeInline(head.ContentType ?? guessContentType(name))) {
    // Storage.save stores these as attachments so they cannot run script on the bucket's origin; keep
    // an existing attachment as it is (it may name a download filename).
    const current = head.ContentDisposition ?? "";
    headers.ContentDisposition = /^\s*attachment\b/i.test(current) ? current : "attachment";
  }
  const metadata: Record<string, string> = { ...parameters.Metadata };
  if (isGzipEncoded(head.ContentEncoding)) {
    for (const [key, value] of Object.entries(head.Metadata ?? {})) {
      if (metadataName(key) === metadataName(UNCOMPRESSED_SIZE)) metadata[key] = value;
    }
  }
  if (Object.keys(metadata).length > 0) headers.Metadata = metadata;
  else delete headers.Metadata;
  if (headers.StorageClass === undefined && head.StorageClass !== undefined) headers.StorageClass = head.StorageClass;
  if (headers.ServerSideEncryption === undefined && head.ServerSideEncryption !== undefined) {
    headers.ServerSideEncryption = head.ServerSideEncryption;
    if (head.SSEKMSKeyId !== undefined) headers.SSEKMSKeyId = head.SSEKMSKeyId;
    if (head.BucketKeyEnabled !== undefined) headers.BucketKeyEnabled = head.BucketKeyEnabled;
  }

  return { headers, changes: diff(head, headers) };
}

function diff(head: HeadObjectOutput, wanted: S3ReplacementHeaders): S3HeaderChange[] {
  const changes: S3HeaderChange[] = [];
  const compare = (header: string, from: string | null, to: string | null) => {
    if (from !== to) changes.push({ header, from, to });
  };
  compare("Cache-Control", text(head.CacheControl), text(wanted.CacheControl));
  compare("Content-Disposition", text(head.ContentDisposition), text(wanted.ContentDisposition));
  compare("Content-Language", text(head.ContentLanguage), text(wanted.ContentLanguage));
  compare("Expires", text(head.Expires), text(wanted.Expires));
  compare("x-amz-website-redirect-location", text(head.WebsiteRedirectLocation), text(wanted.WebsiteRedirectLocation));

  const current = new Map(Object.entries(head.Metadata ?? {}).map(([k, v]) => [metadataName(k), v]));
  const desired = new Map(Object.entries(wanted.Metadata ?? {}).map(([k, v]) => [metadataName(k), v]));
  for (const name of new Set([...current.keys(), ...desired.keys()])) {
    compare(`x-amz-meta-${name}`, current.get(name) ?? null, desired.get(name) ?? null);
  }

  // S3 omits the storage class of STANDARD objects.
  compare("x-amz-storage-class", head.StorageClass ?? "STANDARD", wanted.StorageClass ?? "STANDARD");
  compare("x-amz-server-side-encryption", text(head.ServerSideEncryption), text(wanted.ServerSideEncryption));
  if (wanted.SSEKMSKeyId !== undefined) {
    const same = head.SSEKMSKeyId !== undefined && kmsKeyId(head.SSEKMSKeyId) === kmsKeyId(wanted.SSEKMSKeyId);
    if (!same)
      changes.push({
        header: "x-amz-server-side-encryption-aws-kms-key-id",
        from: text(head.SSEKMSKeyId),
        to: wanted.SSEKMSKeyId,
      });
  }
  if (wanted.BucketKeyEnabled !== undefined) {
    compare(
      "x-amz-server-side-encryption-bucket-key-enabled",
      String(head.BucketKeyEnabled ?? false),
      String(wanted.BucketKeyEnabled),
    );
  }
  if (wanted.ObjectLockMode !== undefined)
    compare("x-amz-object-lock-mode", text(head.ObjectLockMode), wanted.ObjectLockMode);
  if (wanted.ObjectLockRetainUntilDate !== undefined) {
    compare(
      "x-amz-object-lock-retain-until-date",
      text(head.ObjectLockRetainUntilDate),
      text(wanted.ObjectLockRetainUntilDate),
    );
  }
  if (wanted.ObjectLockLegalHoldStatus !== undefined) {
    compare("x-amz-object-lock-legal-hold", text(head.ObjectLockLegalHoldStatus), wanted.ObjectLockLegalHoldStatus);
  }
  for (const [key, header] of Object.entries(UNREADABLE)) {
    const value = wanted[key as keyof typeof UNREADABLE];
    if (value !== undefined) changes.push({ header, from: undefined, to: value });
  }
  return changes;
}

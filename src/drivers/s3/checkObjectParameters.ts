import { StorageConfigError } from "../../errors/StorageConfigError";
import type { S3ObjectParameters } from "./S3StorageOptions";

const PER_WRITE =
  "depends on each object's body or on the write itself, so it cannot be set for every object; the storage sends it where needed";

/**
 * Every PutObject parameter `objectParameters` may hold: null for those it takes, or why it cannot take
 * it. The compiler checks the keys against the SDK's `PutObjectCommandInput` (without Bucket, Key and
 * Body), so a parameter the SDK adds cannot be forgotten here.
 */
const PARAMETERS: Record<keyof S3ObjectParameters, string | null> = {
  ACL: null,
  CacheControl: null,
  ContentDisposition: null,
  ContentEncoding: null,
  ContentLanguage: null,
  ContentType: null,
  ChecksumAlgorithm: null,
  Expires: null,
  GrantFullControl: null,
  GrantRead: null,
  GrantReadACP: null,
  GrantWriteACP: null,
  Metadata: null,
  ServerSideEncryption: null,
  StorageClass: null,
  WebsiteRedirectLocation: null,
  SSECustomerAlgorithm: null,
  SSECustomerKey: null,
  SSECustomerKeyMD5: null,
  SSEKMSKeyId: null,
  SSEKMSEncryptionContext: null,
  BucketKeyEnabled: null,
  RequestPayer: null,
  Tagging: null,
  ObjectLockMode: null,
  ObjectLockRetainUntilDate: null,
  ObjectLockLegalHoldStatus: null,
  ObjectLockEventHold: null,
  ObjectLockEventHoldDurationDays: null,
  ObjectLockEventHoldDurationYears: null,
  ExpectedBucketOwner: null,
  ContentLength: PER_WRITE,
  ContentMD5: PER_WRITE,
  ChecksumCRC32: PER_WRITE,
  ChecksumCRC32C: PER_WRITE,
  ChecksumCRC64NVME: PER_WRITE,
  ChecksumSHA1: PER_WRITE,
  ChecksumSHA256: PER_WRITE,
  ChecksumSHA512: PER_WRITE,
  ChecksumMD5: PER_WRITE,
  ChecksumXXHASH64: PER_WRITE,
  ChecksumXXHASH3: PER_WRITE,
  ChecksumXXHASH128: PER_WRITE,
  IfMatch: PER_WRITE,
  IfNoneMatch: PER_WRITE,
  WriteOffsetBytes: PER_WRITE,
};

const TAKEN = Object.keys(PARAMETERS).filter((name) => PARAMETERS[name as keyof S3ObjectParameters] === null);

/** A name reduced to letters and digits, lower case, without `x-amz-`: `Cache-Control` and `x-amz-acl` find theirs. */
const loose = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "")
    .replace(/^xamz/, "");

/**
 * Refuses (`StorageConfigError`) an `objectParameters` key that PutObject does not take, which the SDK
 * would drop without a word (boto3, under django-storages, refuses it: "Invalid extra_args key"), or one
 * that depends on each write (`ContentMD5`, checksums, `IfNoneMatch`…), and `Metadata` that is not an
 * object of strings. A header name (`Cache-Control`, `x-amz-acl`) is answered with the parameter's name.
 */
export function checkObjectParameters(parameters: Record<string, unknown>): void {
  for (const name of Object.keys(parameters)) {
    if (name === "Bucket" || name === "Key" || name === "Body") fail(`objectParameters must not set ${name}.`);
    if (!Object.hasOwn(PARAMETERS, name)) {
      const meant = TAKEN.find((taken) => loose(taken) === loose(name));
      fail(
        `objectParameters has no parameter ${JSON.stringify(name)}${meant ? ` (did you mean ${meant}?)` : ""}: ` +
          `it takes PutObject's parameters by their SDK names (AWS_S3_OBJECT_PARAMETERS uses boto3's, the same). ` +
          `PutObject's are ${TAKEN.join(", ")}.`,
      );
    }
    const refusal = PARAMETERS[name as keyof S3ObjectParameters];
    if (refusal !== null) fail(`objectParameters.${name} ${refusal}. Remove it.`);
  }
  const metadata = parameters.Metadata;
  if (metadata === undefined) return;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    fail(
      `objectParameters.Metadata must be an object of strings like { "owner": "web" }, not ${JSON.stringify(metadata)}.`,
    );
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== "string") {
      fail(`objectParameters.Metadata[${JSON.stringify(key)}] must be a string, not ${JSON.stringify(value)}.`);
    }
  }
}

function fail(message: string): never {
  throw new StorageConfigError(`S3Storage: ${message}`);
}

import { explainAclError } from "../drivers/s3/explainAclError";
import { CREDENTIAL_ERRORS, describeS3Error as describe, type S3ErrorLike } from "../drivers/s3/s3ErrorCodes";
import { StorageConfigError } from "../errors/StorageConfigError";
import { StorageOperationError } from "../errors/StorageOperationError";

/**
 * Why one object could not be examined or rewritten, in words that say what to do: refused credentials,
 * the permissions sync-meta needs (a 403 of CopyObject, or of HEAD, which names it only by its status),
 * an ACL-less bucket, an archived object, a concurrent change. Never throws.
 */
export function syncFailureReason(error: unknown, bucket: string): string {
  const e = error as S3ErrorLike | null;
  const explained = explainAclError(error, bucket);
  if (explained !== error) return (explained as Error).message;
  if (CREDENTIAL_ERRORS.has(e?.name ?? "")) {
    return (
      `${describe(error)} (the credentials were refused: check accessKey and secretKey (AWS_S3_ACCESS_KEY_ID and ` +
      "AWS_S3_SECRET_ACCESS_KEY), securityToken for temporary keys, or the SDK's credential chain)"
    );
  }
  const denied =
    `${describe(error)} (sync-meta needs s3:GetObject and s3:PutObject on the object, s3:PutObjectAcl ` +
    "when an ACL is set, and kms:Decrypt and kms:GenerateDataKey on the key of SSE-KMS objects)";
  switch (e?.name) {
    case "AccessDenied":
      return denied;
    case "PreconditionFailed":
    case "ConditionalRequestConflict": // S3, when a write races the conditional completion of a copy
    case "InvalidRange": // a part's range past the end: the object shrank since HEAD
      return "the object changed between HEAD and its copy (its ETag no longer matches); run sync-meta again for it";
    case "InvalidObjectState":
      return `${describe(error)} (the object is archived; restore it before rewriting its headers)`;
    default:
      if (e?.$metadata?.httpStatusCode === 412)
        return "the object changed between HEAD and its copy (its ETag no longer matches); run sync-meta again for it";
      // A refused HEAD has no body, so the SDK names its error after the status ("403"), not AccessDenied.
      return e?.$metadata?.httpStatusCode === 403 ? denied : describe(error);
  }
}

/**
 * The error `syncMetadata` throws when listing fails: `StorageConfigError` when the bucket is missing or
 * the credentials may not list it (naming `s3:ListBucket`), else `StorageOperationError` (operation
 * `list`). Both carry the SDK error as `cause`.
 */
export function listFailure(
  error: unknown,
  storage: string | null,
  bucket: string,
  prefix: string,
  examined: number,
): StorageConfigError | StorageOperationError {
  const e = error as S3ErrorLike | null;
  const where = `bucket "${bucket}"${prefix ? ` under "${prefix}"` : ""}${storage ? ` (storage "${storage}")` : ""}`;
  const after = examined > 0 ? ` Listing stopped after ${examined} objects were examined.` : "";
  const options = { storage, key: prefix, cause: error };
  if (CREDENTIAL_ERRORS.has(e?.name ?? "")) {
    return new StorageConfigError(
      `Cannot list ${where}: the credentials were refused (${describe(error)}). Check accessKey and secretKey ` +
        "(AWS_S3_ACCESS_KEY_ID and AWS_S3_SECRET_ACCESS_KEY) or the SDK's credential chain.",
      options,
    );
  }
  if (e?.name === "AccessDenied" || e?.$metadata?.httpStatusCode === 403) {
    return new StorageConfigError(
      `Cannot list ${where}: ${describe(error)}. sync-meta lists the bucket once, so its credentials need ` +
        `s3:ListBucket on arn:aws:s3:::${bucket}` +
        `${prefix ? ` (a policy may limit it with the condition s3:prefix "${prefix}*")` : ""}; rewriting ` +
        `also needs s3:GetObject and s3:PutObject on arn:aws:s3:::${bucket}/${prefix}*.${after}`,
      options,
    );
  }
  if (e?.name === "NoSuchBucket") {
    return new StorageConfigError(
      `Cannot list ${where}: the bucket does not exist. Check bucketName (AWS_STORAGE_BUCKET_NAME) and the endpoint.`,
      options,
    );
  }
  return new StorageOperationError("list", `Could not list ${where}: ${describe(error)}.${after}`, options);
}

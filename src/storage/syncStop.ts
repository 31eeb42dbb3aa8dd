import { CREDENTIAL_ERRORS, describeS3Error, type S3ErrorLike } from "../drivers/s3/s3ErrorCodes";
import { StorageConfigError } from "../errors/StorageConfigError";

/** What `syncMetadata` asked again after an object failed: the credential provider, or the bucket's listing. */
export interface SyncProbeFailure {
  during: "credentials" | "listing";
  error: unknown;
}

/** Where the run stood when it stopped, for the message. */
export interface SyncStopContext {
  storage: string | null;
  bucket: string;
  /** The listed prefix inside the bucket. */
  prefix: string;
  examined: number;
  /** Listed objects never started. */
  notAttempted: number;
  listingComplete: boolean;
}

/**
 * Why a sync-meta run must stop, and what to fix, when asking again after an object failed shows the
 * failure is the whole run's, not the object's: the credential provider fails (whatever its error: the
 * SDK's chain, STS, a provider of the app's own), or a listing of the bucket is refused for the
 * credentials (`ExpiredToken`, `InvalidAccessKeyId`, `SignatureDoesNotMatch`, ...), for its permissions
 * (`AccessDenied`, a 403) or because the bucket is gone: the set `refusedListing` takes for a
 * configuration error. Null for any other failure of the listing (a server error, a lost connection):
 * that says nothing against the run. Never throws.
 */
export function syncStopReason(failure: SyncProbeFailure, bucket: string, prefix: string): string | null {
  const e = failure.error as S3ErrorLike | null;
  const described = describeS3Error(failure.error);
  if (failure.during === "credentials")
    return (
      `the credential provider failed (${described}). Renew the credentials it reads (sessionProfile, the ` +
      "SDK's credential chain, the app's provider in clientConfig.credentials)"
    );
  if (CREDENTIAL_ERRORS.has(e?.name ?? ""))
    return (
      `the credentials were refused (${described}). Check accessKey and secretKey (AWS_S3_ACCESS_KEY_ID and ` +
      "AWS_S3_SECRET_ACCESS_KEY), or securityToken (AWS_S3_SESSION_TOKEN) and the SDK's credential chain for " +
      "temporary credentials, which expire: use ones that outlast the run"
    );
  if (e?.name === "NoSuchBucket")
    return `bucket "${bucket}" no longer exists (${described}). Check bucketName (AWS_STORAGE_BUCKET_NAME)`;
  if (e?.name === "AccessDenied" || e?.$metadata?.httpStatusCode === 403)
    return (
      `the credentials may no longer list bucket "${bucket}" (${described}): their permissions changed ` +
      `during the run. sync-meta needs s3:ListBucket on arn:aws:s3:::${bucket}${prefix ? ` (prefix "${prefix}")` : ""}, ` +
      `and s3:GetObject and s3:PutObject on arn:aws:s3:::${bucket}/${prefix}*`
    );
  return null;
}

/**
 * The `StorageConfigError` a stopped sync-meta run reports (`SyncMetadataSummary.stopped`): the reason
 * (`syncStopReason`, null when the failure does not stop the run), how far the run got, and that running
 * again resumes (objects already rewritten are skipped as unchanged); `cause` is the probe's error.
 * Never throws.
 */
export function syncStop(failure: SyncProbeFailure, where: SyncStopContext): StorageConfigError | null {
  const why = syncStopReason(failure, where.bucket, where.prefix);
  if (why === null) return null;
  const objects = (n: number) => `${n} ${n === 1 ? "object" : "objects"}`;
  const left =
    `${where.notAttempted} listed ${where.notAttempted === 1 ? "object was" : "objects were"} not attempted` +
    `${where.listingComplete ? "" : ", and the listing had not finished"}`;
  return new StorageConfigError(
    `sync-meta stopped after ${objects(where.examined)} of bucket "${where.bucket}": ${why}, then run sync-meta ` +
      `again (objects already rewritten are skipped as unchanged). ${left}.`,
    { storage: where.storage, key: where.prefix, cause: failure.error },
  );
}

import { CREDENTIAL_ERRORS, type S3ErrorLike } from "../drivers/s3/s3ErrorCodes";
import { StorageConfigError } from "../errors/StorageConfigError";
import { StorageOperationError } from "../errors/StorageOperationError";

/**
 * The `StorageConfigError` to throw for a listing that failed because of the storage's settings: the
 * bucket does not exist, or the credentials are refused or may not list it, the failures `sync-meta`
 * reports the same way (`listFailure`). Running again cannot help; fixing the configuration does, and
 * the CLI exits with 2 for it. `error` is what `Storage.listAll` threw: its message already names the
 * setting to fix, and its `cause` (the backend's error) is kept. Null for any other failure. Never throws.
 */
export function refusedListing(error: unknown): StorageConfigError | null {
  if (!(error instanceof StorageOperationError) || error.operation !== "list") return null;
  const cause = error.cause as S3ErrorLike | null | undefined;
  const refused =
    CREDENTIAL_ERRORS.has(cause?.name ?? "") ||
    cause?.name === "NoSuchBucket" ||
    cause?.name === "AccessDenied" ||
    cause?.$metadata?.httpStatusCode === 403;
  return refused
    ? new StorageConfigError(error.message, { key: error.key, storage: error.storage, cause: error.cause })
    : null;
}

import { StorageConfigError } from "../../errors/StorageConfigError";

/**
 * Turns S3's `AccessControlListNotSupported` (a bucket whose Object Ownership is "bucket owner
 * enforced", the AWS default since April 2023, refuses any ACL) into a `StorageConfigError` that says
 * what to change; any other error is returned as it is.
 */
export function explainAclError(error: unknown, bucket: string): unknown {
  const name = (error as { name?: string; Code?: string } | null)?.name;
  if (name !== "AccessControlListNotSupported") return error;
  return new StorageConfigError(
    `S3Storage: bucket "${bucket}" has ACLs disabled (Object Ownership: bucket owner enforced), so it refused ` +
      "the ACL this storage sends. Remove defaultAcl (AWS_DEFAULT_ACL) and any ACL in objectParameters, and " +
      "make public objects readable with a bucket policy instead (s3:GetObject for the public prefix).",
    { cause: error },
  );
}

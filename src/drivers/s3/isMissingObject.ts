import type { S3ErrorLike } from "./s3ErrorCodes";

/**
 * Whether an error of a request about one object says the object is gone (deleted since it was
 * listed): HEAD's bare 404 (the SDK names it `NotFound`), `NoSuchKey`, or a 404 without an error code.
 * Other 404 codes name something else that is missing, not the object: `NoSuchUpload` (the upload of a
 * multipart copy was aborted, by a lifecycle rule or another process, while the object is still there),
 * `NoSuchBucket`, `NoSuchVersion`. Never throws.
 */
export function isMissingObject(error: unknown): boolean {
  const e = error as S3ErrorLike | null;
  if (e?.name === "NotFound" || e?.name === "NoSuchKey") return true;
  return e?.$metadata?.httpStatusCode === 404 && !e.name?.startsWith("NoSuch");
}

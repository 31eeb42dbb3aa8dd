/** What this package reads of an error from the S3 SDK (or Node under it): S3's code in `name`, Node's in `code`. */
export interface S3ErrorLike {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** S3 error codes (and the SDK's credential-chain failure) that mean the credentials were refused. */
export const CREDENTIAL_ERRORS: ReadonlySet<string> = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
  "CredentialsProviderError",
]);

/** An SDK error as `Name: message`, or `Name: HTTP 403` for a response without a body (HEAD's). Never throws. */
export function describeS3Error(error: unknown): string {
  const e = error as S3ErrorLike | null;
  const message =
    e?.message && e.message !== "UnknownError" ? e.message : `HTTP ${e?.$metadata?.httpStatusCode ?? "?"}`;
  return e?.name ? `${e.name}: ${message}` : String(error);
}

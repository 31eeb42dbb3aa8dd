import type { StorageOperation } from "../../errors/StorageOperationError";
import type { ResolvedS3Options } from "./S3StorageOptions";
import { CREDENTIAL_ERRORS, type S3ErrorLike } from "./s3ErrorCodes";

/** Node's codes for a certificate it did not trust. */
const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/**
 * The same failures by message: under Jest (another realm) the SDK re-wraps Node's error as
 * "AWS SDK error wrapper for Error: …" and the code is lost.
 */
const TLS_MESSAGE =
  /self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate|certificate has expired|certificate is not yet valid|does not match certificate's altnames/i;

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
/** The same by message, for errors re-wrapped across realms (see TLS_MESSAGE). */
const UNREACHABLE_MESSAGE = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b/;

/** The IAM action each operation needs on the bucket or its objects. */
const ACTIONS: Record<StorageOperation, string> = {
  save: "s3:PutObject",
  read: "s3:GetObject",
  stat: "s3:GetObject",
  exists: "s3:GetObject",
  delete: "s3:DeleteObject",
  list: "s3:ListBucket",
  url: "s3:GetObject",
  copy: "s3:GetObject and s3:PutObject",
  // createUpload checks the name is free; the presigned PUT is then made with the same credentials
  upload: "s3:GetObject and s3:PutObject",
};

/**
 * What to do about a failure S3 reported, in the settings' own names (option, then environment
 * variable), for the end of the facade's message; null when there is nothing better to say than the
 * SDK's own words. Covers what goes wrong when setting a storage up: an untrusted certificate, refused
 * credentials, a missing bucket, the wrong region, an endpoint nothing listens on, a policy without
 * the action. Never throws.
 */
export function explainS3Failure(
  error: unknown,
  operation: StorageOperation,
  options: ResolvedS3Options,
): string | null {
  const e = (typeof error === "object" && error !== null ? error : {}) as S3ErrorLike;
  const endpoint = options.endpointUrl
    ? options.endpointUrl.origin
    : `AWS (region ${options.regionName ?? "from the SDK"})`;
  if (TLS_CODES.has(e.code ?? "") || TLS_MESSAGE.test(e.message ?? "")) {
    return typeof options.verify === "string"
      ? `The certificate of ${endpoint} is not signed by a CA in the bundle given as verify (${options.verify}, ` +
          "AWS_S3_VERIFY), which replaces Node's CAs: add the CA that signed the server's certificate to it."
      : `The certificate of ${endpoint} is not trusted. If the server uses a private CA, give its PEM bundle ` +
          'as verify: "/path/ca.pem" (AWS_S3_VERIFY); verify: false turns the check off, for tests only.';
  }
  if (CREDENTIAL_ERRORS.has(e.name ?? "")) {
    return (
      "The credentials were refused. Check accessKey and secretKey (AWS_S3_ACCESS_KEY_ID, " +
      "AWS_S3_SECRET_ACCESS_KEY), securityToken for temporary keys, or sessionProfile (AWS_S3_SESSION_PROFILE); " +
      "without them the SDK's credential chain is used."
    );
  }
  if (e.name === "RequestTimeTooSkewed") {
    return "This machine's clock differs from the server's by more than 15 minutes: synchronise it (NTP).";
  }
  if (e.name === "NoSuchBucket") {
    return (
      `The bucket "${options.bucketName}" does not exist at ${endpoint}. Check bucketName ` +
      "(AWS_STORAGE_BUCKET_NAME) and endpointUrl (AWS_S3_ENDPOINT_URL), or create the bucket."
    );
  }
  if (
    e.name === "PermanentRedirect" ||
    e.name === "AuthorizationHeaderMalformed" ||
    e.$metadata?.httpStatusCode === 301
  ) {
    return (
      `The bucket "${options.bucketName}" is in another region than ${options.regionName ?? "the SDK's default"}: ` +
      "set regionName (AWS_S3_REGION_NAME) to the bucket's region."
    );
  }
  if (UNREACHABLE_CODES.has(e.code ?? "") || UNREACHABLE_MESSAGE.test(e.message ?? "")) {
    return (
      `Nothing answered at ${endpoint}. Check endpointUrl (AWS_S3_ENDPOINT_URL), that the server runs, ` +
      "and proxies (AWS_S3_PROXIES) if the network needs one."
    );
  }
  if (e.name === "AccessDenied" || e.$metadata?.httpStatusCode === 403) {
    const read = operation === "read" || operation === "stat" || operation === "exists";
    return (
      `The credentials need ${ACTIONS[operation]} on bucket "${options.bucketName}" (README, "IAM policy")` +
      (read ? "; S3 also answers 403 for a missing object when they lack s3:ListBucket." : ".")
    );
  }
  return null;
}

import type { ResolvedS3Options } from "./S3StorageOptions";

/**
 * How an S3 storage builds URLs: `publicUrl` (prefix + key), `customDomain` (unsigned, on the custom
 * domain), `cloudFront` (signed by a CloudFront key or signer), `endpoint` (unsigned, on the bucket
 * endpoint) or `presigned` (S3 SigV4 query signature, on the bucket endpoint).
 */
export type S3UrlMode = "publicUrl" | "customDomain" | "cloudFront" | "endpoint" | "presigned";

/**
 * The URL mode of validated options, by django-storages' `url()` order with django-s3-storage's
 * `AWS_S3_PUBLIC_URL` first. Only `presigned` URLs are for one holder (and need S3 credentials);
 * `cloudFront` URLs are signed but may be cached by the CDN, which checks the signature at the edge.
 * Throws nothing.
 */
export function s3UrlMode(options: ResolvedS3Options): S3UrlMode {
  if (options.publicUrl !== undefined) return "publicUrl";
  if (options.customDomain !== undefined) {
    if (!options.querystringAuth || options.cloudfrontSigner === null) return "customDomain";
    if (options.cloudfrontSigner !== undefined) return "cloudFront";
  }
  return options.querystringAuth ? "presigned" : "endpoint";
}

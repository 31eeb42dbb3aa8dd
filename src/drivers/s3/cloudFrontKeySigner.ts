import { createPrivateKey } from "node:crypto";
import { getSignedUrl } from "@aws-sdk/cloudfront-signer";
import { StorageConfigError } from "../../errors/StorageConfigError";
import type { CloudFrontUrlSigner } from "./S3StorageOptions";

/**
 * A CloudFront URL signer (canned policy) from a PEM private key and its public key id, using
 * `@aws-sdk/cloudfront-signer`. The key is checked now, so a bad key fails at construction.
 */
export function cloudFrontKeySigner(privateKey: string, keyPairId: string): CloudFrontUrlSigner {
  try {
    createPrivateKey(privateKey);
  } catch (error) {
    throw new StorageConfigError(
      "S3Storage: cloudfrontKey (AWS_CLOUDFRONT_KEY) is not a PEM private key. Paste the whole key, including " +
        "the -----BEGIN ... PRIVATE KEY----- lines (in an environment variable, newlines may be written as \\n).",
      { cause: error },
    );
  }
  return (url, expiresAt) => getSignedUrl({ url, keyPairId, privateKey, dateLessThan: expiresAt.toISOString() });
}

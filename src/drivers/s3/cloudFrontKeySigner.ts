import { createPrivateKey, type KeyObject } from "node:crypto";
import { StorageConfigError } from "../../errors/StorageConfigError";
import { awsSdk } from "./awsSdk";
import type { CloudFrontUrlSigner } from "./S3StorageOptions";

/** Signed URLs kept per signer; at ~0.5 KB each, about half a megabyte. */
const CACHE_SIZE = 1000;

/**
 * A CloudFront URL signer (canned policy, `Expires` + `Signature` + `Key-Pair-Id`) from a PEM private key
 * (RSA 2048 or ECDSA P-256) and the id of its public key, using `@aws-sdk/cloudfront-signer`. Throws
 * `StorageConfigError` now, at construction, for a key that is not an unencrypted RSA or EC private key.
 *
 * The key is parsed once: handed a PEM string, the SDK parses it on every call, which costs more than
 * the RSA signature itself (~0.75 ms of ~1 ms per URL). The SDK passes the key straight to
 * `crypto.Sign#sign`, which takes a `KeyObject` as well as a PEM; its types say only `string | Buffer`,
 * so the cast below relies on that, and test/storages/s3.cloudfront.test.ts verifies real signatures
 * to catch an SDK that stops doing so (the dependency is pinned).
 *
 * RSA PKCS#1 v1.5 signatures are deterministic (and any valid ECDSA one will do), so a signed URL is a
 * pure function of the URL and its expiry: the last `CACHE_SIZE` are kept and returned again for the
 * same pair. `S3UrlBuilder` rounds
 * expiries up, so a page showing the same files gets the same URLs (and the browser's cache) for a
 * while, and pays for each signature once.
 */
export function cloudFrontKeySigner(privateKey: string, keyPairId: string): CloudFrontUrlSigner {
  const key = parsePrivateKey(privateKey);
  const signed = new Map<string, string>();
  return (url, expiresAt) => {
    const cacheKey = `${expiresAt.getTime()} ${url}`;
    const cached = signed.get(cacheKey);
    if (cached !== undefined) return cached;
    const result = awsSdk.cloudFrontSigner.getSignedUrl({
      url,
      keyPairId,
      privateKey: key as unknown as string,
      dateLessThan: expiresAt.toISOString(),
    });
    // Oldest first: a Map iterates in insertion order, and entries of past expiry windows go first.
    if (signed.size >= CACHE_SIZE) signed.delete(signed.keys().next().value as string);
    signed.set(cacheKey, result);
    return result;
  };
}

function parsePrivateKey(pem: string): KeyObject {
  const help =
    "Paste the whole key, including the -----BEGIN ... PRIVATE KEY----- lines (in an environment variable, " +
    "newlines may be written as \\n).";
  if (/-----BEGIN (ENCRYPTED|RSA PUBLIC|PUBLIC) /.test(pem) || /Proc-Type: 4,ENCRYPTED/.test(pem)) {
    const kind = /PUBLIC/.test(pem) ? "a public key" : "encrypted";
    throw new StorageConfigError(
      `S3Storage: cloudfrontKey (AWS_CLOUDFRONT_KEY) is ${kind}; it must be the unencrypted private key of the ` +
        "key pair whose public key CloudFront trusts (decrypt one with `openssl pkey -in key.pem -out plain.pem`).",
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new StorageConfigError(`S3Storage: cloudfrontKey (AWS_CLOUDFRONT_KEY) is not a PEM private key. ${help}`, {
      cause: error,
    });
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== "rsa" && !(key.asymmetricKeyType === "ec" && curve === "prime256v1")) {
    throw new StorageConfigError(
      `S3Storage: cloudfrontKey (AWS_CLOUDFRONT_KEY) has key type ${key.asymmetricKeyType}${curve ? ` ${curve}` : ""}; ` +
        "CloudFront signs URLs only with RSA 2048 or ECDSA P-256 (prime256v1) keys.",
    );
  }
  return key;
}

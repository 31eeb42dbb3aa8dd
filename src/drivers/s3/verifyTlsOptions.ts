import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { StorageConfigError } from "../../errors/StorageConfigError";

/**
 * The TLS options `verify` (`AWS_S3_VERIFY`) stands for: null for Node's defaults (`true`),
 * `rejectUnauthorized: false` (`false`), or the PEM bundle a path names as the only trusted CAs, as
 * botocore does with a bundle path (add to Node's defaults instead with `NODE_EXTRA_CA_CERTS`).
 * Reads the file now, so a bad path fails at construction: throws `StorageConfigError` naming the path
 * when it cannot be read or holds no PEM certificate.
 */
export function verifyTlsOptions(verify: boolean | string): ConnectionOptions | null {
  if (verify === true) return null;
  if (verify === false) return { rejectUnauthorized: false };
  let ca: string;
  try {
    ca = readFileSync(verify, "utf8");
  } catch (error) {
    throw new StorageConfigError(
      `S3Storage: cannot read the CA bundle ${JSON.stringify(verify)} named by verify (AWS_S3_VERIFY): ` +
        `${(error as Error).message}. Give the path of a readable PEM file, or false to skip verification ` +
        "(test servers only).",
      { cause: error },
    );
  }
  if (!ca.includes("-----BEGIN CERTIFICATE-----")) {
    throw new StorageConfigError(
      `S3Storage: the CA bundle ${JSON.stringify(verify)} named by verify (AWS_S3_VERIFY) holds no PEM ` +
        'certificate ("-----BEGIN CERTIFICATE-----"). Give a PEM bundle (convert DER with `openssl x509 -inform der`).',
    );
  }
  return { ca };
}

import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { S3Storage } from "typeorm-storages";
import type { S3Target } from "./s3Target";

/**
 * The client settings both paths share. `WHEN_REQUIRED` because s3rver stores the SDK's default
 * aws-chunked stream framing as data (shared/research/s3-servers.md §3); the library's own tests use
 * the same pair (test/support/s3.ts). Everything else is the SDK default on both sides.
 */
export const CLIENT_CONFIG: S3ClientConfig = {
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
};

/** Multipart settings of both paths: the library's defaults (8 MiB parts, 4 in flight), given to lib-storage too. */
export const PART_SIZE = 8 * 1024 * 1024;
export const QUEUE_SIZE = 4;

/** A plain SDK client on the target: the raw path, and setup and cleanup behind the library's back. */
export function rawClient(target: S3Target): S3Client {
  return new S3Client({
    endpoint: target.endpoint,
    region: target.region,
    forcePathStyle: true,
    credentials: { accessKeyId: target.accessKey, secretAccessKey: target.secretKey },
    ...CLIENT_CONFIG,
  });
}

/** Runs `work` with a raw client that is destroyed afterwards: setup and cleanup outside the timed paths. */
export async function withRawClient<T>(target: S3Target, work: (client: S3Client) => Promise<T>): Promise<T> {
  const client = rawClient(target);
  try {
    return await work(client);
  } finally {
    client.destroy();
  }
}

type S3StorageOptions = ConstructorParameters<typeof S3Storage>[0];

/** An `S3Storage` on the target with the same client settings as `rawClient`; `options` override. */
export function libStorage(target: S3Target, options: Partial<S3StorageOptions> = {}): S3Storage {
  return new S3Storage({
    bucketName: target.bucket,
    endpointUrl: target.endpoint,
    regionName: target.region,
    addressingStyle: "path",
    accessKey: target.accessKey,
    secretKey: target.secretKey,
    clientConfig: CLIENT_CONFIG,
    ...options,
  });
}

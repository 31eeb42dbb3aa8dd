import type { S3Storage } from "../../src/storage/S3Storage";
import { CHECKSUM_MODES, createTestBucket, deleteTestBucket, makeS3Storage } from "../support/s3";
import { describeStorageContract } from "./storageContract";

// The shared contract, on the harness's s3rver (or S3_ENDPOINT), once per SDK checksum mode.
for (const mode of CHECKSUM_MODES) {
  const buckets: string[] = [];
  const storages: S3Storage[] = [];
  describeStorageContract(`S3 (${mode} checksums)`, async () => {
    const bucket = await createTestBucket(`contract-${mode}`);
    buckets.push(bucket);
    const storage = makeS3Storage(bucket, mode, { location: "media" });
    storages.push(storage);
    return storage;
  });
  afterAll(async () => {
    for (const storage of storages) await storage.close();
    for (const bucket of buckets) await deleteTestBucket(bucket);
  });
}

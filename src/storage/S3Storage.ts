import type { S3Client } from "@aws-sdk/client-s3";
import { S3Driver } from "../drivers/s3/S3Driver";
import type { S3StorageOptions } from "../drivers/s3/S3StorageOptions";
import { Storage } from "./Storage";

/**
 * A storage on Amazon S3 or any S3-compatible server (django-storages' `S3Storage`). The constructor
 * validates the options and throws `StorageConfigError` for unknown or impossible ones; it makes no
 * request. Call `ready()` (or `storages.ready()`) before asking for presigned URLs.
 */
export class S3Storage extends Storage {
  constructor(options: S3StorageOptions) {
    const driver = new S3Driver(options);
    super(driver, {
      fileOverwrite: driver.settings.fileOverwrite,
      allowUnsafeInline: driver.settings.allowUnsafeInline,
    });
  }

  /** The AWS SDK client this storage uses, for commands the library does not wrap. */
  get client(): S3Client {
    return (this.driver as S3Driver).client;
  }
}

import type { S3Client } from "@aws-sdk/client-s3";
import { guessContentType, mediaType } from "../content/guessContentType";
import { defaultObjectParameters } from "../drivers/s3/defaultObjectParameters";
import { S3Driver } from "../drivers/s3/S3Driver";
import type { ResolvedS3Options, S3ObjectParameters, S3StorageOptions } from "../drivers/s3/S3StorageOptions";
import { Storage } from "./Storage";

/**
 * A storage on Amazon S3 or any S3-compatible server (django-storages' `S3Storage`). The constructor
 * validates the options and throws `StorageConfigError` for unknown or impossible ones; it makes no
 * request. Call `ready()` (or `storages.ready()`) before asking for presigned URLs.
 */
export class S3Storage extends Storage {
  constructor(options: S3StorageOptions) {
    let self: S3Storage | null = null;
    const driver = new S3Driver(options, (name) => (self as S3Storage).getObjectParameters(name));
    super(driver, {
      fileOverwrite: driver.settings.fileOverwrite,
      allowUnsafeInline: driver.settings.allowUnsafeInline,
    });
    self = this;
  }

  /**
   * The headers a new object named `name` gets (ACL, Cache-Control, Content-Disposition,
   * Content-Language, metadata, storage class, encryption): the settings, with `objectParameters` on
   * top. Override it in a subclass for per-object rules, as with django-storages'
   * `get_object_parameters`; `sync-meta` applies the same result to existing objects. Reads, deletes
   * and listings repeat what S3 needs of it again: an SSE-C key, `RequestPayer`, `ExpectedBucketOwner`
   * (readParameters.ts). A `ContentType` here wins over the content's own type and the name's guess.
   */
  getObjectParameters(name: string): S3ObjectParameters {
    return defaultObjectParameters(name, this.settings);
  }

  /**
   * Whether a `save()` of `name` may have been gzipped: `gzip` is on, the type the name gets (a
   * `ContentType` of `getObjectParameters`, else the guess from the name) is one of `gzipContentTypes`,
   * and no `ContentEncoding` is preset (S3Uploader stores such bytes as they are). A listing cannot
   * tell: it shows neither the encoding nor the original size, and the ETag is the compressed bytes'
   * MD5. Only whole-body uploads are gzipped, but a file's size says nothing of the object's.
   */
  override mayCompress(name: string): boolean {
    const { gzip, gzipContentTypes } = this.settings;
    if (!gzip) return false;
    const params = this.getObjectParameters(name);
    if (params.ContentEncoding !== undefined) return false;
    const type = params.ContentType ?? guessContentType(name);
    return gzipContentTypes.has(mediaType(type));
  }

  /** The validated options, with defaults filled in. */
  get settings(): ResolvedS3Options {
    return (this.driver as S3Driver).settings;
  }

  /** The bucket this storage writes to. */
  get bucketName(): string {
    return this.settings.bucketName;
  }

  /** The AWS SDK client this storage uses, for commands the library does not wrap. */
  get client(): S3Client {
    return (this.driver as S3Driver).client;
  }
}

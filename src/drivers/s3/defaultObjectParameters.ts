import { isHashedStaticName } from "../../keys/hashedStaticName";
import type { ResolvedS3Options, S3NameSetting, S3ObjectParameters } from "./S3StorageOptions";
import { s3UrlMode } from "./s3UrlMode";

function evaluate(setting: S3NameSetting | undefined, name: string): string | undefined {
  return typeof setting === "function" ? setting(name) : setting;
}

/**
 * The headers a new object named `name` (relative to `location`) gets from the storage's settings:
 * ACL, Cache-Control, Content-Disposition, Content-Language, metadata, storage class and encryption,
 * with `objectParameters` on top (django-storages: an `ACL` there wins over `defaultAcl`). Content
 * type and encoding are per object and added by the writer. `S3Storage.getObjectParameters` calls this;
 * override that method for per-object rules.
 */
export function defaultObjectParameters(name: string, options: ResolvedS3Options): S3ObjectParameters {
  const params: S3ObjectParameters = {};
  if (options.defaultAcl !== undefined) params.ACL = options.defaultAcl;
  // Shared caches (a CDN) may keep public objects; presigned ones are for one holder only.
  const audience = () => (s3UrlMode(options) === "presigned" ? "private" : "public");
  if (options.maxAgeSecondsCached !== undefined && isHashedStaticName(name)) {
    params.CacheControl = `${audience()}, max-age=${options.maxAgeSecondsCached}, immutable`;
  } else if (options.maxAgeSeconds !== undefined) {
    params.CacheControl = `${audience()}, max-age=${options.maxAgeSeconds}`;
  }
  const disposition = evaluate(options.contentDisposition, name);
  if (disposition) params.ContentDisposition = disposition;
  const language = evaluate(options.contentLanguage, name);
  if (language) params.ContentLanguage = language;
  if (options.storageClass !== undefined)
    params.StorageClass = options.storageClass as S3ObjectParameters["StorageClass"];
  if (options.kmsEncryptionKeyId !== undefined) {
    params.ServerSideEncryption = "aws:kms";
    params.SSEKMSKeyId = options.kmsEncryptionKeyId;
  } else if (options.encryptKey) {
    params.ServerSideEncryption = "AES256";
  }
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.metadata)) {
    const evaluated = evaluate(value, name);
    if (evaluated !== undefined) metadata[key] = evaluated;
  }
  const { Metadata: extraMetadata, ...extra } = options.objectParameters;
  Object.assign(metadata, extraMetadata);
  Object.assign(params, extra);
  if (Object.keys(metadata).length > 0) params.Metadata = metadata;
  return params;
}

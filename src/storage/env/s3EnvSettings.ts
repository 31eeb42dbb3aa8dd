import type { S3StorageOptions, S3TransferConfig } from "../../drivers/s3/S3StorageOptions";
import { StorageConfigError } from "../../errors/StorageConfigError";
import { parseBoolean, toBoolean, toInteger, toJsonObject, toList, toStringRecord } from "./envValues";

/** The storages `storagesFromEnv` configures. */
export type EnvStorageName = "default" | "private" | "staticfiles";

export const ALL_STORAGES: ReadonlyArray<EnvStorageName> = ["default", "private", "staticfiles"];
const PUBLIC_STORAGES: ReadonlyArray<EnvStorageName> = ["default", "staticfiles"];

/** How one `S3Storage` option is read from the environment. */
export interface S3EnvSetting {
  readonly option: keyof S3StorageOptions;
  /** The variables, first set wins: django-storages' name, then django-s3-storage's, then this library's. */
  readonly names: ReadonlyArray<string>;
  /** The storages `names` apply to. */
  readonly storages: ReadonlyArray<EnvStorageName>;
  /** django-s3-storage's `_STATIC` variable: read for `staticfiles` only, before `names`. */
  readonly staticName?: string;
  /** Turns the raw value into the option's value; throws `StorageConfigError` naming the variable. */
  readonly parse: (value: string, name: string) => unknown;
  /** One line: what it sets and how it is written. */
  readonly description: string;
}

const text = (value: string) => value.trim();

/** `AWS_S3_ENCRYPT_KEY`: a boolean, or django-s3-storage's algorithm names `AES256` / `aws:kms`. */
function encryptKey(value: string, name: string): boolean | "aws:kms" {
  const word = value.trim();
  if (word === "AES256") return true;
  if (word === "aws:kms") return "aws:kms";
  if (parseBoolean(word) === undefined) {
    throw new StorageConfigError(`${name} must be true, false, AES256 or aws:kms, not ${JSON.stringify(value)}.`);
  }
  return toBoolean(word, name);
}

/** boto3's `TransferConfig` argument names, as `AWS_S3_TRANSFER_CONFIG` spells them, and ours. */
const TRANSFER_KEYS: Record<string, keyof S3TransferConfig> = {
  multipart_threshold: "multipartThreshold",
  multipart_chunksize: "multipartChunksize",
  max_concurrency: "maxConcurrency",
  use_threads: "useThreads",
};

/** `AWS_S3_TRANSFER_CONFIG`: JSON with boto3's snake_case names (or the camelCase ones). */
function transferConfig(value: string, name: string): S3TransferConfig {
  const raw = toJsonObject(value, name, '{"multipart_chunksize": 16777216, "max_concurrency": 8}');
  const config: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(raw)) {
    const option = TRANSFER_KEYS[key] ?? Object.values(TRANSFER_KEYS).find((camel) => camel === key);
    if (option === undefined) {
      throw new StorageConfigError(
        `${name}: ${JSON.stringify(key)} is not supported; use ${Object.keys(TRANSFER_KEYS).join(", ")} ` +
          "(boto3's other TransferConfig arguments tune its own thread pool and have no equivalent here).",
      );
    }
    const valid = option === "useThreads" ? typeof item === "boolean" : Number.isSafeInteger(item) && Number(item) >= 0;
    if (!valid) {
      const kind = option === "useThreads" ? "true or false" : "a whole number of bytes or parts";
      throw new StorageConfigError(`${name}: ${key} must be ${kind}, not ${JSON.stringify(item)}.`);
    }
    config[option] = item;
  }
  return config as S3TransferConfig;
}

/**
 * Every `S3Storage` option `storagesFromEnv` reads with a plain rule (one value, first name wins).
 * `location` and the credentials follow rules of their own (see `s3OptionsFromEnv`); `cloudfrontSigner`,
 * `clientConfig`, `client` and `allowUnsafeInline` are code only.
 */
export const S3_ENV_SETTINGS: ReadonlyArray<S3EnvSetting> = [
  {
    option: "bucketName",
    names: ["AWS_STORAGE_BUCKET_NAME", "AWS_S3_BUCKET_NAME"],
    storages: ALL_STORAGES,
    staticName: "AWS_S3_BUCKET_NAME_STATIC",
    parse: text,
    description: "The bucket; setting it selects S3 when USE_S3 is unset.",
  },
  {
    option: "regionName",
    names: ["AWS_S3_REGION_NAME", "AWS_REGION"],
    storages: ALL_STORAGES,
    parse: text,
    description: "The region; unset: the SDK's region chain, or us-east-1 with an endpoint URL.",
  },
  {
    option: "endpointUrl",
    names: ["AWS_S3_ENDPOINT_URL"],
    storages: ALL_STORAGES,
    staticName: "AWS_S3_ENDPOINT_URL_STATIC",
    parse: text,
    description: "S3-compatible endpoint with scheme, e.g. http://minio:9000.",
  },
  {
    option: "publicEndpointUrl",
    names: ["AWS_S3_PUBLIC_ENDPOINT_URL"],
    storages: ALL_STORAGES,
    parse: text,
    description: "Endpoint used only in URLs, when browsers reach S3 at another address than the app.",
  },
  {
    option: "addressingStyle",
    names: ["AWS_S3_ADDRESSING_STYLE"],
    storages: ALL_STORAGES,
    staticName: "AWS_S3_ADDRESSING_STYLE_STATIC",
    parse: text,
    description: "path, virtual or auto.",
  },
  {
    option: "useSsl",
    names: ["AWS_S3_USE_SSL"],
    storages: ALL_STORAGES,
    parse: toBoolean,
    description: "false: reach S3 over plain HTTP (an endpoint URL's own scheme wins).",
  },
  {
    option: "verify",
    names: ["AWS_S3_VERIFY"],
    storages: ALL_STORAGES,
    parse: (value) => parseBoolean(value) ?? value.trim(),
    description: "TLS verification: false to skip it, true, or the path of a PEM CA bundle to trust.",
  },
  {
    option: "proxies",
    names: ["AWS_S3_PROXIES"],
    storages: ALL_STORAGES,
    parse: (value, name) => toStringRecord(value, name, '{"https": "http://proxy:3128"}'),
    description: 'JSON: proxies by scheme or scheme://host, e.g. {"https": "http://proxy:3128"}.',
  },
  {
    option: "signatureVersion",
    names: ["AWS_S3_SIGNATURE_VERSION"],
    storages: ALL_STORAGES,
    staticName: "AWS_S3_SIGNATURE_VERSION_STATIC",
    parse: text,
    description: "Only s3v4 is accepted; anything else is a configuration error.",
  },
  {
    option: "defaultAcl",
    names: ["AWS_DEFAULT_ACL"],
    storages: PUBLIC_STORAGES,
    parse: text,
    description: "Canned ACL of new objects, e.g. public-read; unset sends none. Not private.",
  },
  {
    option: "objectParameters",
    names: ["AWS_S3_OBJECT_PARAMETERS"],
    storages: ALL_STORAGES,
    parse: (value, name) => toJsonObject(value, name, '{"CacheControl": "max-age=86400"}'),
    description:
      'JSON: extra PutObject parameters, e.g. {"CacheControl": "max-age=86400"}; private drops ACL and Grant*.',
  },
  {
    option: "storageClass",
    names: ["AWS_S3_STORAGE_CLASS"],
    storages: ALL_STORAGES,
    parse: text,
    description: "Storage class of new objects, e.g. STANDARD_IA.",
  },
  {
    option: "reducedRedundancy",
    names: ["AWS_S3_REDUCED_REDUNDANCY"],
    storages: ALL_STORAGES,
    staticName: "AWS_S3_REDUCED_REDUNDANCY_STATIC",
    parse: toBoolean,
    description: "true: store new objects as REDUCED_REDUNDANCY.",
  },
  {
    option: "encryptKey",
    names: ["AWS_S3_ENCRYPT_KEY"],
    storages: ALL_STORAGES,
    staticName: "AWS_S3_ENCRYPT_KEY_STATIC",
    parse: encryptKey,
    description:
      "true or AES256: SSE-S3; aws:kms: SSE-KMS (with AWS_S3_KMS_ENCRYPTION_KEY_ID, or the AWS managed key).",
  },
  {
    option: "kmsEncryptionKeyId",
    names: ["AWS_S3_KMS_ENCRYPTION_KEY_ID"],
    storages: ALL_STORAGES,
    staticName: "AWS_S3_KMS_ENCRYPTION_KEY_ID_STATIC",
    parse: text,
    description: "SSE-KMS with this KMS key (id, ARN or alias).",
  },
  {
    option: "contentDisposition",
    names: ["AWS_S3_CONTENT_DISPOSITION"],
    storages: ALL_STORAGES,
    staticName: "AWS_S3_CONTENT_DISPOSITION_STATIC",
    parse: text,
    description: "Content-Disposition stored with each new object.",
  },
  {
    option: "contentLanguage",
    names: ["AWS_S3_CONTENT_LANGUAGE"],
    storages: ALL_STORAGES,
    staticName: "AWS_S3_CONTENT_LANGUAGE_STATIC",
    parse: text,
    description: "Content-Language stored with each new object.",
  },
  {
    option: "metadata",
    names: ["AWS_S3_METADATA"],
    storages: ALL_STORAGES,
    staticName: "AWS_S3_METADATA_STATIC",
    parse: (value, name) => toStringRecord(value, name, '{"owner": "web"}'),
    description: 'JSON: x-amz-meta-* metadata of each new object, e.g. {"owner": "web"}.',
  },
  {
    option: "maxAgeSeconds",
    names: ["AWS_S3_MAX_AGE_SECONDS"],
    storages: ALL_STORAGES,
    staticName: "AWS_S3_MAX_AGE_SECONDS_STATIC",
    parse: toInteger,
    description:
      "Cache-Control max-age of new objects (public, or private when URLs are presigned); also the lifetime of " +
      "presigned default/staticfiles URLs when AWS_QUERYSTRING_EXPIRE is unset (at most 7 days).",
  },
  {
    option: "maxAgeSecondsCached",
    names: ["AWS_S3_MAX_AGE_SECONDS_CACHED_STATIC"],
    storages: ["staticfiles"],
    parse: toInteger,
    description:
      "Cache-Control max-age (with immutable) of the hashed copies collectstatic --manifest stores " +
      "(site.0123456789ab.css), e.g. 31536000; other objects keep AWS_S3_MAX_AGE_SECONDS_STATIC.",
  },
  {
    option: "pendingUploadTag",
    names: ["AWS_S3_PENDING_UPLOAD_TAG"],
    storages: ["default", "private"],
    parse: text,
    description:
      "key=value tag direct uploads carry until attached (then removed), for a lifecycle rule that expires " +
      "uploads never attached, e.g. upload=pending.",
  },
  {
    option: "gzip",
    names: ["AWS_IS_GZIPPED", "AWS_S3_GZIP"],
    storages: ALL_STORAGES,
    staticName: "AWS_S3_GZIP_STATIC",
    parse: toBoolean,
    description: "true: gzip objects of GZIP_CONTENT_TYPES, kept only when smaller.",
  },
  {
    option: "gzipContentTypes",
    names: ["GZIP_CONTENT_TYPES"],
    storages: ALL_STORAGES,
    parse: toList,
    description: "Comma-separated content types gzip applies to (default: django-storages' css/js/svg list).",
  },
  {
    option: "querystringAuth",
    names: ["AWS_QUERYSTRING_AUTH", "AWS_S3_BUCKET_AUTH"],
    storages: ["default"],
    staticName: "AWS_S3_BUCKET_AUTH_STATIC",
    parse: toBoolean,
    description: "Presign URLs (default storage: false unless set; private: always; staticfiles: _STATIC only).",
  },
  {
    option: "querystringExpire",
    names: ["AWS_QUERYSTRING_EXPIRE"],
    storages: ALL_STORAGES,
    parse: toInteger,
    description: "Seconds a presigned URL lives (default 3600, at most 604800).",
  },
  {
    option: "customDomain",
    names: ["AWS_S3_CUSTOM_DOMAIN"],
    storages: ALL_STORAGES,
    parse: text,
    description: "Host (and path) of URLs, e.g. a CDN; private uses it only with CloudFront signing.",
  },
  {
    option: "urlProtocol",
    names: ["AWS_S3_URL_PROTOCOL"],
    storages: ALL_STORAGES,
    parse: text,
    description: "https: or http:, for custom-domain URLs.",
  },
  {
    option: "publicUrl",
    names: ["AWS_S3_PUBLIC_URL"],
    storages: ["default"],
    staticName: "AWS_S3_PUBLIC_URL_STATIC",
    parse: text,
    description:
      "URL prefix of unsigned URLs, pointing at the prefix, e.g. https://cdn.example.com/media/. Not private.",
  },
  {
    option: "cloudfrontKey",
    names: ["AWS_CLOUDFRONT_KEY"],
    storages: ALL_STORAGES,
    parse: (value) => value,
    description: "PEM private key signing custom-domain URLs with CloudFront (\\n sequences become newlines).",
  },
  {
    option: "cloudfrontKeyId",
    names: ["AWS_CLOUDFRONT_KEY_ID"],
    storages: ALL_STORAGES,
    parse: text,
    description: "Id of the CloudFront public key matching AWS_CLOUDFRONT_KEY.",
  },
  {
    option: "fileOverwrite",
    names: ["AWS_S3_FILE_OVERWRITE"],
    storages: ["default", "private"],
    staticName: "AWS_S3_FILE_OVERWRITE_STATIC",
    parse: toBoolean,
    description: "true: a save replaces an object of the same name (default false; staticfiles: true).",
  },
  {
    option: "multipartThreshold",
    names: ["AWS_S3_MULTIPART_THRESHOLD"],
    storages: ALL_STORAGES,
    parse: toInteger,
    description: "Streams of at least this many bytes go multipart (default 8 MiB).",
  },
  {
    option: "multipartChunksize",
    names: ["AWS_S3_MULTIPART_CHUNKSIZE"],
    storages: ALL_STORAGES,
    parse: toInteger,
    description: "Part size of multipart uploads in bytes (default 8 MiB, at least 5 MiB).",
  },
  {
    option: "maxConcurrency",
    names: ["AWS_S3_MAX_CONCURRENCY"],
    storages: ALL_STORAGES,
    parse: toInteger,
    description: "Parts uploaded in parallel (default 4).",
  },
  {
    option: "useThreads",
    names: ["AWS_S3_USE_THREADS"],
    storages: ALL_STORAGES,
    staticName: "AWS_S3_USE_THREADS_STATIC",
    parse: toBoolean,
    description: "false: upload one part at a time.",
  },
  {
    option: "transferConfig",
    names: ["AWS_S3_TRANSFER_CONFIG"],
    storages: ALL_STORAGES,
    parse: transferConfig,
    description:
      "JSON with boto3's TransferConfig names multipart_threshold, multipart_chunksize, max_concurrency, " +
      "use_threads; the single variables win.",
  },
];

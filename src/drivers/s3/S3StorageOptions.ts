import type { ObjectCannedACL, PutObjectCommandInput, S3Client, S3ClientConfig } from "@aws-sdk/client-s3";

/** How bucket URLs are built: `path` (`host/bucket/key`), `virtual` (`bucket.host/key`), or `auto`. */
export type S3AddressingStyle = "path" | "virtual" | "auto";

/** Per-object parameters merged into PutObject / CreateMultipartUpload / CopyObject requests. */
export type S3ObjectParameters = Omit<Partial<PutObjectCommandInput>, "Bucket" | "Key" | "Body">;

/** A header value, or a function of the object's name (relative to `location`) giving it (django-s3-storage). */
export type S3NameSetting = string | ((name: string) => string);

/**
 * Signs a CloudFront URL: gets the full unsigned URL and when it must expire, returns the signed URL.
 * `cloudfrontKey` + `cloudfrontKeyId` build one with `@aws-sdk/cloudfront-signer`.
 */
export type CloudFrontUrlSigner = (url: string, expiresAt: Date) => string;

/** boto3's TransferConfig names (`AWS_S3_TRANSFER_CONFIG`, JSON); each also exists as a top-level option. */
export interface S3TransferConfig {
  multipartThreshold?: number;
  multipartChunksize?: number;
  maxConcurrency?: number;
  useThreads?: boolean;
}

/** django-storages' default `GZIP_CONTENT_TYPES`. */
export const DEFAULT_GZIP_CONTENT_TYPES: ReadonlyArray<string> = [
  "text/css",
  "text/javascript",
  "application/javascript",
  "application/x-javascript",
  "image/svg+xml",
];

/**
 * Options of `S3Storage`. Names follow django-storages (camelCase); each notes the environment variable
 * `storagesFromEnv` reads it from.
 */
export interface S3StorageOptions {
  /** The bucket (`AWS_STORAGE_BUCKET_NAME`). Required. */
  bucketName: string;
  /** Key prefix inside the bucket, without slashes at either end (`AWS_LOCATION`; default ""). */
  location?: string;
  /** Region (`AWS_S3_REGION_NAME`); defaults to the SDK's region chain, or `us-east-1` with `endpointUrl`. */
  regionName?: string;
  /** S3-compatible endpoint, e.g. `http://127.0.0.1:9000` (`AWS_S3_ENDPOINT_URL`). */
  endpointUrl?: string;
  /**
   * Endpoint used only when building URLs, when browsers reach S3 at another address than the app
   * (Docker, LocalStack) (`AWS_S3_PUBLIC_ENDPOINT_URL`). Presigned URLs are signed for this host.
   */
  publicEndpointUrl?: string;
  /**
   * `path`, `virtual` or `auto` (`AWS_S3_ADDRESSING_STYLE`; default `auto`: path style with an
   * `endpointUrl`, as botocore does, else the SDK's choice).
   */
  addressingStyle?: S3AddressingStyle;
  /**
   * A profile of the shared AWS config/credentials files (`AWS_S3_SESSION_PROFILE`); first in
   * django-storages' credential order, so it cannot be combined with `accessKey`/`secretKey`. Requests
   * and presigned URLs use its keys (also SSO, `credential_process`, assumed roles), and its region when
   * neither `regionName` nor `endpointUrl` is set; `AWS_ACCESS_KEY_ID` in the environment is then
   * ignored, as with boto3's `Session(profile_name=…)`.
   */
  sessionProfile?: string;
  /** Access key id (`AWS_S3_ACCESS_KEY_ID`, then `AWS_ACCESS_KEY_ID`); else the SDK's default chain. */
  accessKey?: string;
  /** Secret access key (`AWS_S3_SECRET_ACCESS_KEY`, then `AWS_SECRET_ACCESS_KEY`). */
  secretKey?: string;
  /** Session token of temporary credentials (`AWS_SESSION_TOKEN`, `AWS_SECURITY_TOKEN`). */
  securityToken?: string;
  /** Use HTTPS to reach S3 (`AWS_S3_USE_SSL`; default true). An `endpointUrl` carries its own scheme and wins. */
  useSsl?: boolean;
  /**
   * TLS certificate verification (`AWS_S3_VERIFY`): `false` to skip it (test servers only), a path to a
   * PEM CA bundle to trust, or unset/`true` for Node's default trust store. The bundle is read at
   * construction and, as in botocore, replaces Node's CAs (to add to them, use `NODE_EXTRA_CA_CERTS`).
   */
  verify?: boolean | string;
  /**
   * Proxies by scheme or by `scheme://host` (`AWS_S3_PROXIES`, JSON), botocore's format:
   * `{ "https": "http://proxy:3128", "http://minio.internal": "http://other:3128" }`. Chosen per request:
   * a `scheme://host` key matches that host and its subdomains (so virtual-hosted `bucket.host` too), on
   * any port unless the key names one, and wins over the bare scheme; the closest host wins. https goes
   * through a CONNECT tunnel, http as absolute-URI requests; a proxy without scheme is `http://`.
   * Unset, `HTTPS_PROXY`/`HTTP_PROXY` and `NO_PROXY` apply, as in botocore; `{}` ignores them.
   */
  proxies?: Record<string, string>;
  /** Only `s3v4` (`AWS_S3_SIGNATURE_VERSION`): SigV2 is retired by AWS and unsupported by SDK v3. */
  signatureVersion?: "s3v4" | (string & {});
  /** Canned ACL for new objects (`AWS_DEFAULT_ACL`); unset sends no ACL header (ACL-less buckets are the AWS default). */
  defaultAcl?: ObjectCannedACL | (string & {});
  /** Extra PutObject parameters (`AWS_S3_OBJECT_PARAMETERS`, JSON); an `ACL` here wins over `defaultAcl`. */
  objectParameters?: S3ObjectParameters;
  /** Storage class of new objects, e.g. `STANDARD_IA` (`AWS_S3_STORAGE_CLASS`); `objectParameters.StorageClass` wins. */
  storageClass?: string;
  /** Store new objects as `REDUCED_REDUNDANCY` (`AWS_S3_REDUCED_REDUNDANCY`; default false; django-s3-storage). */
  reducedRedundancy?: boolean;
  /** Server-side encryption with S3-managed keys, SSE-S3 / AES256 (`AWS_S3_ENCRYPT_KEY`; default false). */
  encryptKey?: boolean;
  /** Server-side encryption with this KMS key, SSE-KMS (`AWS_S3_KMS_ENCRYPTION_KEY_ID`). */
  kmsEncryptionKeyId?: string;
  /** `Content-Disposition` stored with each object, or a function of its name (`AWS_S3_CONTENT_DISPOSITION`). */
  contentDisposition?: S3NameSetting;
  /** `Content-Language` stored with each object, or a function of its name (`AWS_S3_CONTENT_LANGUAGE`). */
  contentLanguage?: S3NameSetting;
  /** User metadata (`x-amz-meta-*`) for each object; values may be functions of the name (`AWS_S3_METADATA`, JSON). */
  metadata?: Record<string, S3NameSetting>;
  /**
   * Sets `Cache-Control: public, max-age=N` on new objects, or `private, max-age=N` when URLs are signed
   * (`AWS_S3_MAX_AGE_SECONDS`; default unset: no Cache-Control). `objectParameters.CacheControl` wins.
   */
  maxAgeSeconds?: number;
  /**
   * `Cache-Control: public, max-age=N, immutable` (or `private, ...` when URLs are signed) on objects
   * whose name is a content-hashed copy from `collectstatic --manifest` (`site.0123456789ab.css`: 12 hex
   * digits before the extension), instead of `maxAgeSeconds`: they never change, so browsers and CDNs
   * may keep them for a year (django-s3-storage's `AWS_S3_MAX_AGE_SECONDS_CACHED_STATIC`; default
   * unset). `objectParameters.CacheControl` wins; `sync-meta` applies it to objects already stored.
   */
  maxAgeSecondsCached?: number;
  /**
   * A tag, `key=value`, that direct uploads (`createUpload`) are stored with until `attachUpload` takes
   * them, which removes it: a bucket lifecycle rule expiring objects with that tag then deletes uploads
   * never attached, with no database scan (`AWS_S3_PENDING_UPLOAD_TAG`; default unset). Needs
   * s3:PutObjectTagging; `check` looks for the rule.
   */
  pendingUploadTag?: string;
  /**
   * Gzip objects whose content type is in `gzipContentTypes`, kept only when smaller
   * (`AWS_IS_GZIPPED` or `AWS_S3_GZIP`; default false). The original size is stored in metadata so
   * `size()` stays truthful, and reads return the original bytes.
   */
  gzip?: boolean;
  /** Content types `gzip` applies to (`GZIP_CONTENT_TYPES`, comma-separated; django-storages' list by default). */
  gzipContentTypes?: ReadonlyArray<string>;
  /** Presign URLs (`AWS_QUERYSTRING_AUTH`; default true). */
  querystringAuth?: boolean;
  /** Seconds a presigned URL lives (`AWS_QUERYSTRING_EXPIRE`; default 3600, at most 7 days). */
  querystringExpire?: number;
  /** Host (and optional path) serving the bucket, e.g. a CDN (`AWS_S3_CUSTOM_DOMAIN`). */
  customDomain?: string;
  /** Protocol of custom-domain URLs (`AWS_S3_URL_PROTOCOL`; default `https:`). */
  urlProtocol?: "https:" | "http:" | (string & {});
  /**
   * URL prefix public URLs are built on, e.g. `https://cdn.example.com/media/` (`AWS_S3_PUBLIC_URL`;
   * django-s3-storage). As there, it points at the `location`: names relative to it are appended.
   * Needs `querystringAuth: false`.
   */
  publicUrl?: string;
  /** PEM private key of a CloudFront key pair (`AWS_CLOUDFRONT_KEY`); signs `customDomain` URLs. */
  cloudfrontKey?: string;
  /** Id of the CloudFront public key matching `cloudfrontKey` (`AWS_CLOUDFRONT_KEY_ID`). */
  cloudfrontKeyId?: string;
  /** A custom CloudFront signer, or `null` to serve `customDomain` URLs unsigned even with `querystringAuth`. */
  cloudfrontSigner?: CloudFrontUrlSigner | null;
  /** Replace an existing object on save (`AWS_S3_FILE_OVERWRITE`; default false). */
  fileOverwrite?: boolean;
  /** Serve html, svg and xml inline (default false: they get `Content-Disposition: attachment`). */
  allowUnsafeInline?: boolean;
  /** Merged into the `S3ClientConfig` (retries, checksum modes, request handler…). */
  clientConfig?: S3ClientConfig;
  /** A ready `S3Client` to use instead of building one; connection options then only shape URLs. */
  client?: S3Client;
  /**
   * Streams longer than this go multipart (`AWS_S3_MULTIPART_THRESHOLD`; 8 MiB); shorter ones, and
   * Buffers of any size, go in one PutObject (gzip applies only to those single-request bodies).
   */
  multipartThreshold?: number;
  /** Part size of multipart uploads (`AWS_S3_MULTIPART_CHUNKSIZE`; 8 MiB, at least 5 MiB). */
  multipartChunksize?: number;
  /** Parts uploaded in parallel (`AWS_S3_MAX_CONCURRENCY`; 4). */
  maxConcurrency?: number;
  /** `false` uploads one part at a time, like boto3's `use_threads=False` (`AWS_S3_USE_THREADS`; default true). */
  useThreads?: boolean;
  /** boto3 TransferConfig names in one object (`AWS_S3_TRANSFER_CONFIG`, JSON); top-level options win. */
  transferConfig?: S3TransferConfig;
}

/** The options after validation, with defaults filled in. */
export interface ResolvedS3Options {
  bucketName: string;
  /** "" or the location with one trailing slash, ready to prepend to keys. */
  keyPrefix: string;
  regionName: string | undefined;
  endpointUrl: URL | undefined;
  publicEndpointUrl: URL | undefined;
  addressingStyle: S3AddressingStyle;
  sessionProfile: string | undefined;
  accessKey: string | undefined;
  secretKey: string | undefined;
  securityToken: string | undefined;
  useSsl: boolean;
  verify: boolean | string;
  /** Undefined when not given: the environment's proxies then apply (`environmentProxies`). */
  proxies: Record<string, string> | undefined;
  defaultAcl: ObjectCannedACL | undefined;
  objectParameters: S3ObjectParameters;
  storageClass: string | undefined;
  encryptKey: boolean;
  kmsEncryptionKeyId: string | undefined;
  contentDisposition: S3NameSetting | undefined;
  contentLanguage: S3NameSetting | undefined;
  metadata: Record<string, S3NameSetting>;
  maxAgeSeconds: number | undefined;
  maxAgeSecondsCached: number | undefined;
  pendingUploadTag: { key: string; value: string } | undefined;
  gzip: boolean;
  gzipContentTypes: ReadonlySet<string>;
  querystringAuth: boolean;
  querystringExpire: number;
  customDomain: string | undefined;
  urlProtocol: "https:" | "http:";
  /** `publicUrl` with exactly one trailing slash. */
  publicUrl: string | undefined;
  /**
   * With `querystringAuth` on: the signer of `customDomain` URLs, `null` to leave them unsigned, or
   * `undefined` when nothing CloudFront is configured (URLs are then presigned at the S3 endpoint).
   */
  cloudfrontSigner: CloudFrontUrlSigner | null | undefined;
  cloudfrontKey: string | undefined;
  cloudfrontKeyId: string | undefined;
  fileOverwrite: boolean;
  allowUnsafeInline: boolean;
  clientConfig: S3ClientConfig;
  client: S3Client | undefined;
  multipartThreshold: number;
  multipartChunksize: number;
  maxConcurrency: number;
}

/** SigV4 presigned URLs cannot live longer than 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** Longest `expiresIn` of a CloudFront URL: CloudFront sets no limit, this only catches milliseconds for seconds. */
export const MAX_CLOUDFRONT_SECONDS = 10 * 365 * 24 * 3600;

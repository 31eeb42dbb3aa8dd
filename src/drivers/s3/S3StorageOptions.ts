import type { ObjectCannedACL, PutObjectCommandInput, S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import { StorageConfigError } from "../../errors/StorageConfigError";
import { cloudFrontKeySigner } from "./cloudFrontKeySigner";

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
  /** `path`, `virtual` or `auto` (`AWS_S3_ADDRESSING_STYLE`; default `auto`: the SDK's choice). */
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
  proxies: Record<string, string>;
  defaultAcl: ObjectCannedACL | undefined;
  objectParameters: S3ObjectParameters;
  storageClass: string | undefined;
  encryptKey: boolean;
  kmsEncryptionKeyId: string | undefined;
  contentDisposition: S3NameSetting | undefined;
  contentLanguage: S3NameSetting | undefined;
  metadata: Record<string, S3NameSetting>;
  maxAgeSeconds: number | undefined;
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

const MiB = 1024 * 1024;
/** SigV4 presigned URLs cannot live longer than 7 days. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;
const MIN_PART = 5 * MiB;
const MAX_PART = 5 * 1024 * MiB;

/** Every option name, so a new option cannot be forgotten here (the compiler checks the keys). */
const OPTION_NAMES: Record<keyof S3StorageOptions, true> = {
  bucketName: true,
  location: true,
  regionName: true,
  endpointUrl: true,
  publicEndpointUrl: true,
  addressingStyle: true,
  sessionProfile: true,
  accessKey: true,
  secretKey: true,
  securityToken: true,
  useSsl: true,
  verify: true,
  proxies: true,
  signatureVersion: true,
  defaultAcl: true,
  objectParameters: true,
  storageClass: true,
  reducedRedundancy: true,
  encryptKey: true,
  kmsEncryptionKeyId: true,
  contentDisposition: true,
  contentLanguage: true,
  metadata: true,
  maxAgeSeconds: true,
  gzip: true,
  gzipContentTypes: true,
  querystringAuth: true,
  querystringExpire: true,
  customDomain: true,
  urlProtocol: true,
  publicUrl: true,
  cloudfrontKey: true,
  cloudfrontKeyId: true,
  cloudfrontSigner: true,
  fileOverwrite: true,
  allowUnsafeInline: true,
  clientConfig: true,
  client: true,
  multipartThreshold: true,
  multipartChunksize: true,
  maxConcurrency: true,
  useThreads: true,
  transferConfig: true,
};
const KNOWN = Object.keys(OPTION_NAMES);

/** django-storages settings this library does not need, with the reason (a clearer error than "unknown"). */
const NOT_NEEDED: Record<string, string> = {
  maxMemorySize:
    "maxMemorySize is not needed: reads stream from S3 and are never spooled to memory or disk, and writes " +
    "hold at most multipartThreshold bytes (or maxConcurrency parts). Remove it (storagesFromEnv ignores AWS_S3_MAX_MEMORY_SIZE).",
  fileNameCharset: "fileNameCharset is not needed: keys are sent as UTF-8 and percent-encoded in URLs. Remove it.",
};

const CANNED_ACLS: ReadonlyArray<string> = [
  "private",
  "public-read",
  "public-read-write",
  "authenticated-read",
  "aws-exec-read",
  "bucket-owner-read",
  "bucket-owner-full-control",
];

const TRANSFER_NAMES: ReadonlyArray<keyof S3TransferConfig> = [
  "multipartThreshold",
  "multipartChunksize",
  "maxConcurrency",
  "useThreads",
];

function fail(message: string): never {
  throw new StorageConfigError(`S3Storage: ${message}`);
}

function parseUrl(name: string, value: string | undefined): URL | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(`${name} must be an absolute URL like "https://s3.example.com", got ${JSON.stringify(value)}.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    fail(
      `${name} must be an absolute URL with http: or https:, like "https://s3.example.com", got ${JSON.stringify(value)}.`,
    );
  }
  if (url.search || url.hash) fail(`${name} must not have a query or fragment.`);
  return url;
}

function integer(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer from ${min} to ${max}, got ${String(value)}.`);
  }
  return value;
}

function boolean(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") fail(`${name} must be true or false, got ${JSON.stringify(value)}.`);
  return value;
}

function text(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") fail(`${name} must be a non-empty string.`);
  return value;
}

function nameSetting(name: string, value: S3NameSetting | undefined): S3NameSetting | undefined {
  if (value === undefined || typeof value === "function") return value;
  return text(name, value);
}

function transferConfig(options: S3StorageOptions): S3TransferConfig {
  const config = options.transferConfig ?? {};
  if (typeof config !== "object" || config === null) fail("transferConfig must be an object.");
  const unknown = Object.keys(config).filter((name) => !(TRANSFER_NAMES as string[]).includes(name));
  if (unknown.length > 0) {
    fail(`unknown transferConfig option ${unknown.join(", ")}. Valid: ${TRANSFER_NAMES.join(", ")}.`);
  }
  return {
    multipartThreshold: options.multipartThreshold ?? config.multipartThreshold,
    multipartChunksize: options.multipartChunksize ?? config.multipartChunksize,
    maxConcurrency: options.maxConcurrency ?? config.maxConcurrency,
    useThreads: options.useThreads ?? config.useThreads,
  };
}

function checkCredentials(options: S3StorageOptions): void {
  if ((options.accessKey === undefined) !== (options.secretKey === undefined)) {
    fail("accessKey and secretKey must be given together (or neither, for the SDK's default credential chain).");
  }
  if (options.securityToken !== undefined && options.accessKey === undefined) {
    fail("securityToken needs accessKey and secretKey.");
  }
  text("sessionProfile", options.sessionProfile);
  if (options.sessionProfile !== undefined && options.accessKey !== undefined) {
    fail(
      "sessionProfile cannot be combined with accessKey/secretKey: choose the profile (AWS_S3_SESSION_PROFILE) " +
        "or the keys, not both.",
    );
  }
  if (options.client !== undefined) {
    const clashing = (
      [
        "sessionProfile",
        "accessKey",
        "secretKey",
        "securityToken",
        "clientConfig",
        "useSsl",
        "verify",
        "proxies",
      ] as const
    ).filter((name) => options[name] !== undefined);
    if (clashing.length > 0) {
      fail(`${clashing.join(", ")} cannot be combined with an injected client; configure the client itself.`);
    }
  }
}

function checkConnection(options: S3StorageOptions): void {
  if (options.signatureVersion !== undefined && options.signatureVersion !== "s3v4") {
    fail(
      `signatureVersion ${JSON.stringify(options.signatureVersion)} is not supported: only "s3v4" is. ` +
        "AWS retired Signature Version 2 (s3) for new buckets and all regions opened since 2014, and the " +
        "AWS SDK v3 cannot sign with it. Remove the option (or AWS_S3_SIGNATURE_VERSION) or set it to s3v4.",
    );
  }
  if (options.verify !== undefined && typeof options.verify !== "boolean") text("verify", options.verify);
  if (options.proxies !== undefined) {
    if (typeof options.proxies !== "object" || options.proxies === null) {
      fail('proxies must be an object like { "https": "http://proxy:3128" }.');
    }
    for (const [target, proxy] of Object.entries(options.proxies)) {
      if (!/^(https?)(:\/\/[^/]+)?$/.test(target)) {
        fail(`proxies key ${JSON.stringify(target)} must be "http", "https" or "scheme://host" (botocore's format).`);
      }
      if (typeof proxy !== "string" || proxy === "") fail(`proxies[${JSON.stringify(target)}] must be a proxy URL.`);
      parseUrl(`proxies[${JSON.stringify(target)}]`, /^[a-z]+:\/\//i.test(proxy) ? proxy : `http://${proxy}`);
    }
  }
}

/**
 * Refuses URL settings that contradict each other: a public prefix on a signing storage, two hosts, half
 * a CloudFront key pair, or CloudFront signing that would never run. The key itself is parsed later
 * (`cloudFrontKeySigner`), which refuses one CloudFront cannot use.
 */
function checkUrls(options: S3StorageOptions, querystringAuth: boolean): void {
  const { publicUrl, customDomain, cloudfrontKey, cloudfrontKeyId, cloudfrontSigner } = options;
  if (publicUrl !== undefined) {
    if (querystringAuth) {
      fail(
        "publicUrl builds unsigned URLs, so it needs querystringAuth: false (AWS_QUERYSTRING_AUTH=false); a private " +
          "storage must not have a public URL prefix.",
      );
    }
    if (customDomain !== undefined) fail("publicUrl and customDomain both set the URL host; use one of them.");
    if (cloudfrontKey !== undefined || typeof cloudfrontSigner === "function") {
      fail(
        "publicUrl URLs are never signed, so a CloudFront key or signer would go unused. For CloudFront signed URLs " +
          "set customDomain (the distribution's host name) and querystringAuth instead of publicUrl.",
      );
    }
  }
  text("cloudfrontKey", cloudfrontKey);
  text("cloudfrontKeyId", cloudfrontKeyId);
  if ((cloudfrontKey === undefined) !== (cloudfrontKeyId === undefined)) {
    fail("cloudfrontKey and cloudfrontKeyId must be given together (AWS_CLOUDFRONT_KEY, AWS_CLOUDFRONT_KEY_ID).");
  }
  if (cloudfrontKey !== undefined && cloudfrontSigner !== undefined) {
    fail("give either cloudfrontKey + cloudfrontKeyId or cloudfrontSigner, not both.");
  }
  const signsCloudFront = cloudfrontKey !== undefined || typeof cloudfrontSigner === "function";
  if (cloudfrontSigner !== undefined && cloudfrontSigner !== null && typeof cloudfrontSigner !== "function") {
    fail("cloudfrontSigner must be a function (url, expiresAt) => signedUrl, or null.");
  }
  if (signsCloudFront && customDomain === undefined) {
    fail("CloudFront signing needs customDomain (AWS_S3_CUSTOM_DOMAIN): the distribution's host name.");
  }
  if (signsCloudFront && !querystringAuth) {
    fail(
      "CloudFront signing is configured but querystringAuth is false, so URLs would be unsigned. Enable " +
        "querystringAuth, or remove the CloudFront key for a public distribution.",
    );
  }
}

/**
 * Validates `options` and fills in defaults. Throws `StorageConfigError` for unknown options (listing
 * the valid ones), a missing bucket, or values and combinations S3 cannot honour.
 */
export function resolveS3Options(options: S3StorageOptions): ResolvedS3Options {
  if (typeof options !== "object" || options === null) fail("options must be an object with at least bucketName.");
  for (const name of Object.keys(options)) if (name in NOT_NEEDED) fail(NOT_NEEDED[name] as string);
  const unknown = Object.keys(options).filter((name) => !KNOWN.includes(name));
  if (unknown.length > 0) {
    fail(`unknown option${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}. Valid options: ${KNOWN.join(", ")}.`);
  }
  if (typeof options.bucketName !== "string" || options.bucketName === "") {
    fail("bucketName is required (environment: AWS_STORAGE_BUCKET_NAME).");
  }
  const location = (options.location ?? "").replace(/^\/+|\/+$/g, "");
  if (location.split("/").some((part) => part === ".." || part === "." || (part === "" && location !== ""))) {
    fail(`location ${JSON.stringify(options.location)} must not contain ".", ".." or empty segments.`);
  }
  const addressingStyle = options.addressingStyle ?? "auto";
  if (!["path", "virtual", "auto"].includes(addressingStyle)) {
    fail(`addressingStyle must be "path", "virtual" or "auto", got ${JSON.stringify(addressingStyle)}.`);
  }
  checkCredentials(options);
  checkConnection(options);
  if (options.defaultAcl !== undefined && !CANNED_ACLS.includes(options.defaultAcl)) {
    fail(`defaultAcl must be one of ${CANNED_ACLS.join(", ")}, got ${JSON.stringify(options.defaultAcl)}.`);
  }
  const objectParameters = { ...(options.objectParameters ?? {}) };
  for (const reserved of ["Bucket", "Key", "Body"]) {
    if (reserved in objectParameters) fail(`objectParameters must not set ${reserved}.`);
  }
  const urlProtocol = (options.urlProtocol ?? "https:") as ResolvedS3Options["urlProtocol"];
  if (urlProtocol !== "https:" && urlProtocol !== "http:") {
    fail(`urlProtocol must be "https:" or "http:", got ${JSON.stringify(urlProtocol)}.`);
  }
  const customDomain = options.customDomain?.replace(/\/+$/, "");
  if (customDomain !== undefined && (customDomain === "" || /^[a-z]+:\/\//i.test(customDomain))) {
    fail(
      `customDomain is a host name (and optional path) without protocol, e.g. "cdn.example.com"; use urlProtocol for the protocol.`,
    );
  }
  const querystringAuth = boolean("querystringAuth", options.querystringAuth, true);
  checkUrls(options, querystringAuth);
  const publicUrl = parseUrl("publicUrl", options.publicUrl);

  const reducedRedundancy = boolean("reducedRedundancy", options.reducedRedundancy, false);
  const storageClass = text("storageClass", options.storageClass);
  if (reducedRedundancy && storageClass !== undefined && storageClass !== "REDUCED_REDUNDANCY") {
    fail(`reducedRedundancy contradicts storageClass ${JSON.stringify(storageClass)}; set one of them.`);
  }
  const metadata = { ...(options.metadata ?? {}) };
  for (const [name, value] of Object.entries(metadata)) {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) {
      fail(`metadata name ${JSON.stringify(name)} must be a valid HTTP header token (letters, digits, - and _).`);
    }
    nameSetting(`metadata[${JSON.stringify(name)}]`, value);
  }
  const gzipContentTypes = options.gzipContentTypes ?? DEFAULT_GZIP_CONTENT_TYPES;
  if (!Array.isArray(gzipContentTypes) || gzipContentTypes.some((type) => typeof type !== "string")) {
    fail("gzipContentTypes must be an array of content types like text/css.");
  }

  const transfer = transferConfig(options);
  const multipartChunksize = integer("multipartChunksize", transfer.multipartChunksize, 8 * MiB, MIN_PART, MAX_PART);
  const useThreads = boolean("useThreads", transfer.useThreads, true);
  const maxConcurrency = integer("maxConcurrency", transfer.maxConcurrency, 4, 1, 64);
  let cloudfrontSigner = querystringAuth ? options.cloudfrontSigner : undefined;
  if (options.cloudfrontKey !== undefined && options.cloudfrontKeyId !== undefined) {
    // An environment variable cannot hold newlines easily; AWS_CLOUDFRONT_KEY may spell them "\\n".
    cloudfrontSigner = cloudFrontKeySigner(options.cloudfrontKey.replace(/\\n/g, "\n"), options.cloudfrontKeyId);
  }
  return {
    bucketName: options.bucketName,
    keyPrefix: location === "" ? "" : `${location}/`,
    regionName: text("regionName", options.regionName),
    endpointUrl: parseUrl("endpointUrl", options.endpointUrl),
    publicEndpointUrl: parseUrl("publicEndpointUrl", options.publicEndpointUrl),
    addressingStyle,
    sessionProfile: options.sessionProfile,
    accessKey: options.accessKey,
    secretKey: options.secretKey,
    securityToken: options.securityToken,
    useSsl: boolean("useSsl", options.useSsl, true),
    verify: options.verify ?? true,
    proxies: { ...(options.proxies ?? {}) },
    defaultAcl: options.defaultAcl as ObjectCannedACL | undefined,
    objectParameters,
    storageClass: reducedRedundancy ? "REDUCED_REDUNDANCY" : storageClass,
    encryptKey: boolean("encryptKey", options.encryptKey, false),
    kmsEncryptionKeyId: text("kmsEncryptionKeyId", options.kmsEncryptionKeyId),
    contentDisposition: nameSetting("contentDisposition", options.contentDisposition),
    contentLanguage: nameSetting("contentLanguage", options.contentLanguage),
    metadata,
    maxAgeSeconds:
      options.maxAgeSeconds === undefined
        ? undefined
        : integer("maxAgeSeconds", options.maxAgeSeconds, 0, 0, 10 * 365 * 24 * 3600),
    gzip: boolean("gzip", options.gzip, false),
    gzipContentTypes: new Set(gzipContentTypes.map((type) => type.toLowerCase())),
    querystringAuth,
    querystringExpire: integer("querystringExpire", options.querystringExpire, 3600, 1, MAX_PRESIGN_SECONDS),
    customDomain,
    urlProtocol,
    publicUrl: publicUrl === undefined ? undefined : publicUrl.href.replace(/\/*$/, "/"),
    cloudfrontSigner,
    cloudfrontKey: options.cloudfrontKey,
    cloudfrontKeyId: options.cloudfrontKeyId,
    fileOverwrite: boolean("fileOverwrite", options.fileOverwrite, false),
    allowUnsafeInline: boolean("allowUnsafeInline", options.allowUnsafeInline, false),
    clientConfig: options.clientConfig ?? {},
    client: options.client,
    multipartThreshold: integer("multipartThreshold", transfer.multipartThreshold, 8 * MiB, 1, MAX_PART),
    multipartChunksize,
    maxConcurrency: useThreads ? maxConcurrency : 1,
  };
}

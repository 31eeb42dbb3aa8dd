import type { ObjectCannedACL } from "@aws-sdk/client-s3";
import { isMediaType, mediaType } from "../../content/guessContentType";
import { StorageConfigError } from "../../errors/StorageConfigError";
import { checkObjectParameters } from "./checkObjectParameters";
import { cloudFrontKeySigner } from "./cloudFrontKeySigner";
import { parseTagging } from "./parseTagging";
import {
  DEFAULT_GZIP_CONTENT_TYPES,
  MAX_CLOUDFRONT_SECONDS,
  MAX_PRESIGN_SECONDS,
  type ResolvedS3Options,
  type S3NameSetting,
  type S3StorageOptions,
  type S3TransferConfig,
} from "./S3StorageOptions";
import { s3UrlMode } from "./s3UrlMode";

const MiB = 1024 * 1024;
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
  maxAgeSecondsCached: true,
  pendingUploadTag: true,
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
/** Every `S3StorageOptions` name, in documentation order. */
export const S3_OPTION_NAMES = Object.keys(OPTION_NAMES) as ReadonlyArray<keyof S3StorageOptions>;
const KNOWN: ReadonlyArray<string> = S3_OPTION_NAMES;

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

/** S3's tag characters: letters, digits, spaces and `+ - = . _ : / @` (keys up to 128, values up to 256). */
const TAG_KEY = /^[\p{L}\p{N} +\-.:/@_]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{N} +\-=.:/@_]{0,256}$/u;

/** `key=value` (split at the first `=`) as S3 takes a tag, or `undefined`. */
function tag(name: string, value: string | undefined): { key: string; value: string } | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") fail(`${name} must be a string, key=value.`);
  const equals = value.indexOf("=");
  const parsed = { key: value.slice(0, equals), value: value.slice(equals + 1) };
  if (equals < 1 || !TAG_KEY.test(parsed.key) || !TAG_VALUE.test(parsed.value) || parsed.key.startsWith("aws:"))
    fail(
      `${name} must be one tag as key=value (letters, digits, spaces and + - = . _ : / @; not aws:), like ` +
        `"upload=pending", not ${JSON.stringify(value)}.`,
    );
  return parsed;
}

/** `pendingUploadTag`, checked against the storage's own tags: a key of its own, and room under S3's 10. */
function pendingTag(
  value: string | undefined,
  tagging: string | undefined,
): { key: string; value: string } | undefined {
  const pending = tag("pendingUploadTag", value);
  const own = parseTagging(tagging);
  if (pending !== undefined && (own.some((t) => t.Key === pending.key) || own.length >= 10))
    fail(
      `pendingUploadTag ${JSON.stringify(value)} ${own.length >= 10 ? "would be an 11th tag (S3 allows 10)" : "uses a key objectParameters.Tagging sets"}: choose another.`,
    );
  return pending;
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
  if (typeof (options.objectParameters ?? {}) !== "object" || options.objectParameters === null) {
    fail('objectParameters must be an object like { "CacheControl": "max-age=86400" }.');
  }
  const objectParameters = { ...(options.objectParameters ?? {}) };
  checkObjectParameters(objectParameters);
  // JSON (AWS_S3_OBJECT_PARAMETERS) cannot hold a Date: take a date string or epoch seconds, as boto3 does
  for (const name of ["Expires", "ObjectLockRetainUntilDate"] as const) {
    const value = objectParameters[name] as unknown;
    if (typeof value !== "string" && typeof value !== "number") continue;
    const date = new Date(typeof value === "number" ? value * 1000 : value);
    if (Number.isNaN(date.getTime())) fail(`objectParameters.${name} must be a date, got ${JSON.stringify(value)}.`);
    objectParameters[name] = date;
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
  for (const type of gzipContentTypes) {
    // an entry that can never equal a stored type would leave gzip off without a word
    if (!isMediaType(type.trim())) {
      fail(
        `gzipContentTypes entry ${JSON.stringify(type)} is not a content type like text/css (GZIP_CONTENT_TYPES is ` +
          "comma-separated, without quotes or brackets: text/css,text/javascript).",
      );
    }
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
  const resolved: ResolvedS3Options = {
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
    proxies: options.proxies === undefined ? undefined : { ...options.proxies },
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
    maxAgeSecondsCached:
      options.maxAgeSecondsCached === undefined
        ? undefined
        : integer("maxAgeSecondsCached", options.maxAgeSecondsCached, 0, 0, 10 * 365 * 24 * 3600),
    pendingUploadTag: pendingTag(options.pendingUploadTag, objectParameters.Tagging),
    gzip: boolean("gzip", options.gzip, false),
    // compared with the stored type's media type, so parameters (charset) are dropped here too
    gzipContentTypes: new Set(gzipContentTypes.map(mediaType)),
    querystringAuth,
    querystringExpire: 3600, // checked below, against the URL mode these options give
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
  // CloudFront-signed URLs have no 7-day limit; S3 presigned ones do.
  // Unsigned URLs never expire: the setting is unused there, so only the signing modes limit it.
  const maxExpire = s3UrlMode(resolved) === "presigned" ? MAX_PRESIGN_SECONDS : MAX_CLOUDFRONT_SECONDS;
  resolved.querystringExpire = integer("querystringExpire", options.querystringExpire, 3600, 1, maxExpire);
  // Readable by name, but out of console.log(storage.settings), JSON and spreads: a logged settings
  // object must not carry the secret key, the session token or the CloudFront private key.
  for (const secret of SECRET_SETTINGS) Object.defineProperty(resolved, secret, { enumerable: false });
  return resolved;
}

const SECRET_SETTINGS = ["secretKey", "securityToken", "cloudfrontKey"] as const;

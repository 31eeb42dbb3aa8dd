import type { ObjectCannedACL, PutObjectCommandInput, S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import { StorageConfigError } from "../../errors/StorageConfigError";

/** How bucket URLs are built: `path` (`host/bucket/key`), `virtual` (`bucket.host/key`), or `auto`. */
export type S3AddressingStyle = "path" | "virtual" | "auto";

/** Per-object parameters merged into PutObject / CreateMultipartUpload / CopyObject requests. */
export type S3ObjectParameters = Omit<Partial<PutObjectCommandInput>, "Bucket" | "Key" | "Body">;

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
  /** Access key id (`AWS_S3_ACCESS_KEY_ID`, then `AWS_ACCESS_KEY_ID`); else the SDK's default chain. */
  accessKey?: string;
  /** Secret access key (`AWS_S3_SECRET_ACCESS_KEY`, then `AWS_SECRET_ACCESS_KEY`). */
  secretKey?: string;
  /** Session token of temporary credentials (`AWS_SESSION_TOKEN`, `AWS_SECURITY_TOKEN`). */
  securityToken?: string;
  /** Canned ACL for new objects (`AWS_DEFAULT_ACL`); unset sends no ACL header (ACL-less buckets are the AWS default). */
  defaultAcl?: ObjectCannedACL | (string & {});
  /** Extra PutObject parameters (`AWS_S3_OBJECT_PARAMETERS`, JSON); an `ACL` here wins over `defaultAcl`. */
  objectParameters?: S3ObjectParameters;
  /** Presign URLs (`AWS_QUERYSTRING_AUTH`; default true). */
  querystringAuth?: boolean;
  /** Seconds a presigned URL lives (`AWS_QUERYSTRING_EXPIRE`; default 3600, at most 7 days). */
  querystringExpire?: number;
  /** Host (and optional path) serving the bucket, e.g. a CDN (`AWS_S3_CUSTOM_DOMAIN`). */
  customDomain?: string;
  /** Protocol of custom-domain URLs (`AWS_S3_URL_PROTOCOL`; default `https:`). */
  urlProtocol?: "https:" | "http:" | (string & {});
  /** Replace an existing object on save (`AWS_S3_FILE_OVERWRITE`; default false). */
  fileOverwrite?: boolean;
  /** Serve html, svg and xml inline (default false: they get `Content-Disposition: attachment`). */
  allowUnsafeInline?: boolean;
  /** Merged into the `S3ClientConfig` (retries, checksum modes, request handler…). */
  clientConfig?: S3ClientConfig;
  /** A ready `S3Client` to use instead of building one; connection options then only shape URLs. */
  client?: S3Client;
  /** Bodies of at least this many bytes, or of unknown length beyond it, go multipart (`AWS_S3_MULTIPART_THRESHOLD`; 8 MiB). */
  multipartThreshold?: number;
  /** Part size of multipart uploads (`AWS_S3_MULTIPART_CHUNKSIZE`; 8 MiB, at least 5 MiB). */
  multipartChunksize?: number;
  /** Parts uploaded in parallel (`AWS_S3_MAX_CONCURRENCY`; 4). */
  maxConcurrency?: number;
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
  accessKey: string | undefined;
  secretKey: string | undefined;
  securityToken: string | undefined;
  defaultAcl: ObjectCannedACL | undefined;
  objectParameters: S3ObjectParameters;
  querystringAuth: boolean;
  querystringExpire: number;
  customDomain: string | undefined;
  urlProtocol: "https:" | "http:";
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

const KNOWN: ReadonlyArray<keyof S3StorageOptions> = [
  "bucketName",
  "location",
  "regionName",
  "endpointUrl",
  "publicEndpointUrl",
  "addressingStyle",
  "accessKey",
  "secretKey",
  "securityToken",
  "defaultAcl",
  "objectParameters",
  "querystringAuth",
  "querystringExpire",
  "customDomain",
  "urlProtocol",
  "fileOverwrite",
  "allowUnsafeInline",
  "clientConfig",
  "client",
  "multipartThreshold",
  "multipartChunksize",
  "maxConcurrency",
];

const CANNED_ACLS: ReadonlyArray<string> = [
  "private",
  "public-read",
  "public-read-write",
  "authenticated-read",
  "aws-exec-read",
  "bucket-owner-read",
  "bucket-owner-full-control",
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

/**
 * Validates `options` and fills in defaults. Throws `StorageConfigError` for unknown options (listing
 * the valid ones), a missing bucket, or values S3 cannot honour.
 */
export function resolveS3Options(options: S3StorageOptions): ResolvedS3Options {
  if (typeof options !== "object" || options === null) fail("options must be an object with at least bucketName.");
  const unknown = Object.keys(options).filter((name) => !(KNOWN as string[]).includes(name));
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
  if ((options.accessKey === undefined) !== (options.secretKey === undefined)) {
    fail("accessKey and secretKey must be given together (or neither, for the SDK's default credential chain).");
  }
  if (options.securityToken !== undefined && options.accessKey === undefined) {
    fail("securityToken needs accessKey and secretKey.");
  }
  if (options.client !== undefined) {
    const clashing = (["accessKey", "secretKey", "securityToken", "clientConfig"] as const).filter(
      (name) => options[name] !== undefined,
    );
    if (clashing.length > 0) {
      fail(`${clashing.join(", ")} cannot be combined with an injected client; configure the client itself.`);
    }
  }
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
  const multipartChunksize = integer("multipartChunksize", options.multipartChunksize, 8 * MiB, MIN_PART, MAX_PART);
  return {
    bucketName: options.bucketName,
    keyPrefix: location === "" ? "" : `${location}/`,
    regionName: options.regionName,
    endpointUrl: parseUrl("endpointUrl", options.endpointUrl),
    publicEndpointUrl: parseUrl("publicEndpointUrl", options.publicEndpointUrl),
    addressingStyle,
    accessKey: options.accessKey,
    secretKey: options.secretKey,
    securityToken: options.securityToken,
    defaultAcl: options.defaultAcl as ObjectCannedACL | undefined,
    objectParameters,
    querystringAuth: options.querystringAuth ?? true,
    querystringExpire: integer("querystringExpire", options.querystringExpire, 3600, 1, MAX_PRESIGN_SECONDS),
    customDomain,
    urlProtocol,
    fileOverwrite: options.fileOverwrite ?? false,
    allowUnsafeInline: options.allowUnsafeInline ?? false,
    clientConfig: options.clientConfig ?? {},
    client: options.client,
    multipartThreshold: integer("multipartThreshold", options.multipartThreshold, 8 * MiB, 1, MAX_PART),
    multipartChunksize,
    maxConcurrency: integer("maxConcurrency", options.maxConcurrency, 4, 1, 64),
  };
}

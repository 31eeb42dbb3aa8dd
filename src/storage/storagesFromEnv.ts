import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { StorageConfigError } from "../errors/StorageConfigError";
import { FileSystemStorage } from "./FileSystemStorage";
import { S3Storage } from "./S3Storage";
import type { StoragesConfig } from "./StorageRegistry";

type Env = Record<string, string | undefined>;

const first = (env: Env, ...names: string[]) => {
  for (const name of names) if (env[name] !== undefined && env[name] !== "") return env[name];
  return undefined;
};

function flag(env: Env, name: string): boolean | undefined {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === "") return undefined;
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off"].includes(value)) return false;
  throw new StorageConfigError(`${name} must be true or false, not ${JSON.stringify(env[name])}.`);
}

function number(env: Env, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new StorageConfigError(`${name} must be a positive number, not ${value}.`);
  return n;
}

/** True when the environment selects S3: `USE_S3=true`, or a bucket name with `USE_S3` unset. */
export function usesS3(env: Env = process.env): boolean {
  return flag(env, "USE_S3") ?? Boolean(first(env, "AWS_STORAGE_BUCKET_NAME"));
}

function s3Config(env: Env): StoragesConfig {
  const bucketName = first(env, "AWS_STORAGE_BUCKET_NAME");
  if (!bucketName) throw new StorageConfigError("USE_S3 is true but AWS_STORAGE_BUCKET_NAME is not set.");
  const connection = {
    bucketName,
    regionName: first(env, "AWS_S3_REGION_NAME", "AWS_REGION"),
    endpointUrl: first(env, "AWS_S3_ENDPOINT_URL"),
    publicEndpointUrl: first(env, "AWS_S3_PUBLIC_ENDPOINT_URL"),
    addressingStyle: first(env, "AWS_S3_ADDRESSING_STYLE") as "path" | "virtual" | "auto" | undefined,
    accessKey: first(env, "AWS_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
    secretKey: first(env, "AWS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
    securityToken: first(env, "AWS_S3_SESSION_TOKEN", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"),
    querystringExpire: number(env, "AWS_QUERYSTRING_EXPIRE"),
    fileOverwrite: flag(env, "AWS_S3_FILE_OVERWRITE"),
  };
  const defaultAcl = first(env, "AWS_DEFAULT_ACL");
  const customDomain = first(env, "AWS_S3_CUSTOM_DOMAIN");
  const urlProtocol = first(env, "AWS_S3_URL_PROTOCOL");
  const clean = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  return {
    default: () =>
      new S3Storage(
        clean({
          ...connection,
          location: first(env, "AWS_PUBLIC_MEDIA_LOCATION") ?? "media",
          querystringAuth: flag(env, "AWS_QUERYSTRING_AUTH") ?? false,
          defaultAcl,
          customDomain,
          urlProtocol,
        }),
      ),
    // Private media: always presigned, never an ACL or a public custom domain, whatever else is set.
    private: () =>
      new S3Storage(
        clean({
          ...connection,
          location: first(env, "AWS_PRIVATE_MEDIA_LOCATION") ?? "private",
          querystringAuth: true,
        }),
      ),
    staticfiles: () =>
      new S3Storage(
        clean({
          ...connection,
          location: first(env, "AWS_STATIC_LOCATION") ?? "static",
          querystringAuth: false,
          defaultAcl,
          customDomain,
          urlProtocol,
          fileOverwrite: true,
        }),
      ),
  };
}

const withSlash = (url: string) => (url.endsWith("/") ? url : `${url}/`);

function signingSecret(env: Env): string {
  const secret = first(env, "STORAGES_SIGNING_SECRET");
  if (secret) return secret;
  if (env.NODE_ENV === "production") {
    throw new StorageConfigError(
      "STORAGES_SIGNING_SECRET is required in production: private files on local disk are served through " +
        "signed URLs. Set it to a random string of at least 32 characters (openssl rand -base64 48).",
    );
  }
  console.warn(
    "[typeorm-storages] STORAGES_SIGNING_SECRET is not set: using a per-process secret, so signed private " +
      "URLs stop working when the process restarts. Set it outside development.",
  );
  return randomBytes(32).toString("base64url");
}

function diskConfig(env: Env): StoragesConfig {
  const mediaUrl = withSlash(first(env, "MEDIA_URL") ?? "/media/");
  const privateUrl = withSlash(first(env, "PRIVATE_MEDIA_URL") ?? "/private-media/");
  if (privateUrl.startsWith(mediaUrl) || mediaUrl.startsWith(privateUrl)) {
    throw new StorageConfigError(
      `PRIVATE_MEDIA_URL (${privateUrl}) must not overlap MEDIA_URL (${mediaUrl}): public media is served ` +
        "without signatures, so private files under it would be readable by anyone.",
    );
  }
  return {
    default: () => new FileSystemStorage({ location: resolve(first(env, "MEDIA_ROOT") ?? "media"), baseUrl: mediaUrl }),
    private: () =>
      new FileSystemStorage({
        location: resolve(first(env, "PRIVATE_MEDIA_ROOT") ?? "private-media"),
        baseUrl: privateUrl,
        querystringAuth: true,
        signingSecret: signingSecret(env),
        querystringExpire: number(env, "PRIVATE_MEDIA_EXPIRE") ?? 3600,
      }),
    staticfiles: () =>
      new FileSystemStorage({
        location: resolve(first(env, "STATIC_ROOT") ?? "static"),
        baseUrl: withSlash(first(env, "STATIC_URL") ?? "/static/"),
        fileOverwrite: true,
      }),
  };
}

/**
 * The storages `default`, `private` and `staticfiles` for this environment, as factories for
 * `storages.configure()`: on S3 when `USE_S3=true` (or `AWS_STORAGE_BUCKET_NAME` is set and `USE_S3`
 * unset), otherwise on local disk with signed private URLs. Throws `StorageConfigError` for invalid
 * values; nothing is built or contacted until a storage is first used.
 */
export function storagesFromEnv(env: Env = process.env): StoragesConfig {
  return usesS3(env) ? s3Config(env) : diskConfig(env);
}

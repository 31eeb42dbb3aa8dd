import { randomBytes } from "node:crypto";
import { resolve, sep } from "node:path";
import { StorageConfigError } from "../errors/StorageConfigError";
import { MAX_EXPIRES_IN } from "../http/UrlSigner";
import { type Env, first, flag } from "./env/envValues";
import { s3OptionsFromEnv } from "./env/s3OptionsFromEnv";
import { FileSystemStorage, MIN_SIGNING_SECRET_BYTES } from "./FileSystemStorage";
import { realPathOf } from "./realPathOf";
import { S3Storage } from "./S3Storage";
import type { StoragesConfig } from "./StorageRegistry";

export { STORAGE_ENV_VARS, type StorageEnvVar } from "./env/storageEnvVars";

/**
 * True when the environment selects S3: `USE_S3=true`, or a bucket name (`AWS_STORAGE_BUCKET_NAME`, or
 * django-s3-storage's `AWS_S3_BUCKET_NAME`) with `USE_S3` unset. Throws `StorageConfigError` for a
 * `USE_S3` that is not a boolean.
 */
export function usesS3(env: Env = process.env): boolean {
  return flag(env, "USE_S3") ?? Boolean(first(env, "AWS_STORAGE_BUCKET_NAME", "AWS_S3_BUCKET_NAME"));
}

function s3Config(env: Env): StoragesConfig {
  if (!first(env, "AWS_STORAGE_BUCKET_NAME", "AWS_S3_BUCKET_NAME")) {
    throw new StorageConfigError(
      "USE_S3 is true but AWS_STORAGE_BUCKET_NAME is not set (nor django-s3-storage's AWS_S3_BUCKET_NAME).",
    );
  }
  const { options, privateError } = s3OptionsFromEnv(env);
  return {
    default: () => new S3Storage(options.default),
    private: () => {
      if (privateError !== null) throw privateError;
      return new S3Storage(options.private);
    },
    staticfiles: () => new S3Storage(options.staticfiles),
  };
}

const withSlash = (url: string) => (url.endsWith("/") ? url : `${url}/`);

/**
 * The secret of signed URLs on local disk: `STORAGES_SIGNING_SECRET`; outside production, one random
 * secret per call of `storagesFromEnv` (a warning says so, once). In production without it, `required`
 * throws (private media) and otherwise it is `undefined` (public media then takes no direct uploads).
 */
function signingSecrets(env: Env): (required: boolean) => string | undefined {
  let generated: string | undefined;
  const secret = first(env, "STORAGES_SIGNING_SECRET");
  // checked now: a short secret fails public media too (it signs direct uploads), at its first use
  if (secret && Buffer.byteLength(secret) < MIN_SIGNING_SECRET_BYTES) {
    throw new StorageConfigError(
      `STORAGES_SIGNING_SECRET is ${Buffer.byteLength(secret)} bytes; it must be at least ` +
        `${MIN_SIGNING_SECRET_BYTES} bytes of random data (openssl rand -base64 48).`,
    );
  }
  return (required) => {
    if (secret) return secret;
    if (env.NODE_ENV === "production") {
      if (!required) return undefined;
      throw new StorageConfigError(
        "STORAGES_SIGNING_SECRET is required in production: private files on local disk are served through " +
          "signed URLs. Set it to a random string of at least 32 characters (openssl rand -base64 48).",
      );
    }
    if (generated === undefined) {
      console.warn(
        "[typeorm-storages] STORAGES_SIGNING_SECRET is not set: using a per-process secret, so signed private " +
          "URLs and direct-upload URLs stop working when the process restarts. Set it outside development.",
      );
      generated = randomBytes(32).toString("base64url");
    }
    return generated;
  };
}

/**
 * A lifetime of signed URLs in whole seconds, read when `storagesFromEnv` is called (as S3 values are),
 * so a bad value stops the start-up instead of the first private download. Unset or empty: undefined.
 */
function expireSeconds(env: Env, name: string): number | undefined {
  const value = first(env, name)?.trim();
  if (value === undefined || value === "") return undefined;
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || seconds < 1 || seconds > MAX_EXPIRES_IN) {
    throw new StorageConfigError(
      `${name} must be a whole number of seconds from 1 to ${MAX_EXPIRES_IN}, not ${JSON.stringify(value)}.`,
    );
  }
  return seconds;
}

/** The path of a base URL (`/media/` of `https://cdn.example/media/`), for comparing where each is served. */
const urlPath = (url: string) => withSlash(new URL(url, "http://localhost").pathname);

/** True when one directory is the other or lies inside it. */
function nested(a: string, b: string): boolean {
  const below = (inner: string, outer: string) =>
    inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
  return below(a, b) || below(b, a);
}

function diskConfig(env: Env): StoragesConfig {
  const mediaUrl = withSlash(first(env, "MEDIA_URL") ?? "/media/");
  const privateUrl = withSlash(first(env, "PRIVATE_MEDIA_URL") ?? "/private-media/");
  const staticUrl = withSlash(first(env, "STATIC_URL") ?? "/static/");
  for (const [name, url] of [
    ["MEDIA_URL", mediaUrl],
    ["STATIC_URL", staticUrl],
  ]) {
    const [a, b] = [urlPath(privateUrl), urlPath(url)];
    if (a.startsWith(b) || b.startsWith(a)) {
      throw new StorageConfigError(
        `PRIVATE_MEDIA_URL (${privateUrl}) must not overlap ${name} (${url}): that storage is served ` +
          "without signatures, so private files under it would be readable by anyone, and the two " +
          "serveFiles handlers would answer for each other's paths.",
      );
    }
  }
  const mediaRoot = resolve(first(env, "MEDIA_ROOT") ?? "media");
  const privateRoot = resolve(first(env, "PRIVATE_MEDIA_ROOT") ?? "private-media");
  const staticRoot = resolve(first(env, "STATIC_ROOT") ?? "static");
  // Real paths too: with MEDIA_ROOT a symlink to /shared/files, a PRIVATE_MEDIA_ROOT of
  // /shared/files/private lies inside it, though no path text says so. Directories not made yet are
  // compared as written below their deepest existing ancestor; a symlink made after start-up is out of reach.
  const privateReal = realPathOf(privateRoot);
  for (const [name, root] of [
    ["MEDIA_ROOT", mediaRoot],
    ["STATIC_ROOT", staticRoot],
  ]) {
    const real = realPathOf(root);
    if (nested(privateRoot, root) || nested(privateReal, real)) {
      const through = nested(privateRoot, root) ? "" : ` (through symlinks: ${privateReal} and ${real})`;
      throw new StorageConfigError(
        `PRIVATE_MEDIA_ROOT (${privateRoot}) must not be, contain or lie inside ${name} (${root})${through}: ` +
          "files there are served without signatures, so private files would be readable by anyone. Give " +
          "private media a directory of its own.",
      );
    }
  }
  const signingSecret = signingSecrets(env);
  const privateExpire = expireSeconds(env, "PRIVATE_MEDIA_EXPIRE");
  return {
    // signs direct-upload URLs (serveFiles takes them) and download-name overrides; URLs stay plain
    default: () =>
      new FileSystemStorage({ location: mediaRoot, baseUrl: mediaUrl, signingSecret: signingSecret(false) }),
    private: () =>
      new FileSystemStorage({
        location: privateRoot,
        baseUrl: privateUrl,
        querystringAuth: true,
        signingSecret: signingSecret(true),
        querystringExpire: privateExpire ?? 3600,
      }),
    staticfiles: () =>
      new FileSystemStorage({
        location: staticRoot,
        baseUrl: staticUrl,
        fileOverwrite: true,
      }),
  };
}

/**
 * The storages `default`, `private` and `staticfiles` for this environment, as factories for
 * `storages.configure()`: on S3 when `USE_S3=true` (or a bucket name is set and `USE_S3` unset),
 * otherwise on local disk with signed private URLs. S3 options come from django-storages' variables,
 * with django-s3-storage's names as aliases (`STORAGE_ENV_VARS` lists them all). Throws
 * `StorageConfigError` naming the variable for invalid values: S3 options, `PRIVATE_MEDIA_EXPIRE` and the
 * length of `STORAGES_SIGNING_SECRET` are validated now, but nothing is built or contacted until a
 * storage is first used.
 *
 * On S3 the three storages share a bucket, each under its own prefix: `media` (or `AWS_LOCATION`),
 * `private` and `static` by default. `private` always presigns and ignores the settings that would make
 * it public, and refuses to be built inside the prefix of a storage with unsigned URLs; `staticfiles`
 * honours django-s3-storage's `_STATIC` names.
 */
export function storagesFromEnv(env: Env = process.env): StoragesConfig {
  return usesS3(env) ? s3Config(env) : diskConfig(env);
}

import { resolveS3Options } from "../../drivers/s3/resolveS3Options";
import { MAX_PRESIGN_SECONDS, type ResolvedS3Options, type S3StorageOptions } from "../../drivers/s3/S3StorageOptions";
import { StorageConfigError } from "../../errors/StorageConfigError";
import { type Env, firstSet } from "./envValues";
import { ALL_STORAGES, type EnvStorageName, S3_ENV_SETTINGS } from "./s3EnvSettings";

/**
 * Each storage's location variables, first set wins, and its default. `AWS_LOCATION` (django-storages)
 * and `AWS_S3_KEY_PREFIX` (django-s3-storage) keep their Django meaning, the location of the default
 * storage; the tutorial's per-storage names are more specific and win, as a storage class's `location`
 * attribute wins over the global setting in Django. `/` means the bucket's root.
 */
export const LOCATION_VARS: Record<EnvStorageName, { names: ReadonlyArray<string>; fallback: string }> = {
  default: { names: ["AWS_PUBLIC_MEDIA_LOCATION", "AWS_LOCATION", "AWS_S3_KEY_PREFIX"], fallback: "media" },
  private: { names: ["AWS_PRIVATE_MEDIA_LOCATION"], fallback: "private" },
  staticfiles: { names: ["AWS_STATIC_LOCATION", "AWS_S3_KEY_PREFIX_STATIC"], fallback: "static" },
};

/** Credential variables, in django-storages' order (a profile first, then keys, then the SDK's chain). */
export const CREDENTIAL_VARS = {
  sessionProfile: ["AWS_S3_SESSION_PROFILE"],
  accessKey: ["AWS_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"],
  secretKey: ["AWS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"],
  securityToken: ["AWS_S3_SESSION_TOKEN", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"],
} as const;

/** PutObject parameters that grant access; the private storage drops them from AWS_S3_OBJECT_PARAMETERS. */
const ACL_PARAMETERS = ["ACL", "GrantFullControl", "GrantRead", "GrantReadACP", "GrantWriteACP"] as const;

/** Options of one storage, and the variable each came from (for error messages). */
interface EnvOptions {
  options: Record<string, unknown>;
  sources: Map<string, string>;
}

function readLocation(env: Env, storage: EnvStorageName, { options, sources }: EnvOptions): void {
  const { names, fallback } = LOCATION_VARS[storage];
  const found = firstSet(env, names);
  options.location = (found?.value ?? fallback).trim().replace(/^\/+|\/+$/g, "");
  if (found !== undefined) sources.set("location", found.name);
}

function readCredentials(env: Env, { options, sources }: EnvOptions): void {
  const profile = firstSet(env, CREDENTIAL_VARS.sessionProfile);
  if (profile !== undefined) {
    // django-storages refuses a profile next to its own key settings, and ignores the generic AWS_* keys.
    const keys = firstSet(env, ["AWS_S3_ACCESS_KEY_ID", "AWS_S3_SECRET_ACCESS_KEY"]);
    if (keys !== undefined) {
      throw new StorageConfigError(
        `AWS_S3_SESSION_PROFILE and ${keys.name} are both set: use the profile or the keys, not both ` +
          "(with a profile, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are ignored).",
      );
    }
    options.sessionProfile = profile.value.trim();
    sources.set("sessionProfile", profile.name);
    return;
  }
  for (const option of ["accessKey", "secretKey"] as const) {
    const found = firstSet(env, CREDENTIAL_VARS[option]);
    if (found === undefined) continue;
    options[option] = found.value.trim();
    sources.set(option, found.name);
  }
  // A session token belongs to the keys; without keys the SDK's own chain reads it.
  const token = firstSet(env, CREDENTIAL_VARS.securityToken);
  if (token !== undefined && options.accessKey !== undefined) {
    options.securityToken = token.value.trim();
    sources.set("securityToken", token.name);
  }
}

/** The options of `storage` as the environment gives them, before the storage's own rules. */
function readStorage(env: Env, storage: EnvStorageName): EnvOptions {
  const read: EnvOptions = { options: {}, sources: new Map() };
  for (const setting of S3_ENV_SETTINGS) {
    const names = [
      ...(storage === "staticfiles" && setting.staticName !== undefined ? [setting.staticName] : []),
      ...(setting.storages.includes(storage) ? setting.names : []),
    ];
    const found = firstSet(env, names);
    if (found === undefined) continue;
    read.options[setting.option] = setting.parse(found.value, found.name);
    read.sources.set(setting.option, found.name);
  }
  readLocation(env, storage, read);
  readCredentials(env, read);
  return read;
}

/**
 * The storage's own rules. `default` and `staticfiles` are unsigned unless told otherwise; `private`
 * always presigns, and drops whatever would make it public: ACLs, a public URL prefix, and a custom
 * domain unless CloudFront signs its URLs. Unsigned storages ignore the CloudFront key, as
 * django-storages does with `querystring_auth=False`.
 */
function applyStorageRules(storage: EnvStorageName, { options, sources }: EnvOptions): void {
  const transferConfig = options.transferConfig as S3StorageOptions["transferConfig"];
  for (const key of Object.keys(transferConfig ?? {})) {
    if (!sources.has(key)) sources.set(key, "AWS_S3_TRANSFER_CONFIG");
  }
  if (options.encryptKey === "aws:kms") {
    // django-s3-storage's AWS_S3_ENCRYPT_KEY="aws:kms": SSE-KMS, with the AWS managed key unless a key id is set.
    delete options.encryptKey;
    if (options.kmsEncryptionKeyId === undefined) {
      options.objectParameters = { ServerSideEncryption: "aws:kms", ...(options.objectParameters as object) };
    }
  }
  if (storage === "private") {
    options.querystringAuth = true;
    const objectParameters = { ...(options.objectParameters as Record<string, unknown> | undefined) };
    for (const parameter of ACL_PARAMETERS) delete objectParameters[parameter];
    options.objectParameters = objectParameters;
    if (options.cloudfrontKey === undefined || options.cloudfrontKeyId === undefined) {
      delete options.customDomain;
      delete options.urlProtocol;
    }
  } else {
    options.querystringAuth ??= false;
  }
  if (storage === "staticfiles") options.fileOverwrite ??= true;
  if (options.querystringAuth === false) {
    delete options.cloudfrontKey;
    delete options.cloudfrontKeyId;
  }
  // django-s3-storage presigns for AWS_S3_MAX_AGE_SECONDS; S3 refuses more than 7 days. Not for private
  // media: a long public cache lifetime must not stretch the life of private links.
  const maxAge = options.maxAgeSeconds as number | undefined;
  if (storage !== "private" && options.querystringAuth && options.querystringExpire === undefined && maxAge) {
    options.querystringExpire = Math.min(maxAge, MAX_PRESIGN_SECONDS);
    sources.set("querystringExpire", sources.get("maxAgeSeconds") as string);
  }
}

/** Validates like `S3Storage` does, naming the variables behind the options a message mentions. */
function resolve(storage: EnvStorageName, { options, sources }: EnvOptions): ResolvedS3Options {
  try {
    return resolveS3Options(options as unknown as S3StorageOptions);
  } catch (error) {
    if (!(error instanceof StorageConfigError)) throw error;
    const at = (option: string) => error.message.search(new RegExp(`\\b${option}\\b`));
    const named = [...sources].filter(([option]) => at(option) !== -1).sort(([a], [b]) => at(a) - at(b));
    const from = named.map(([option, variable]) => `${option} comes from ${variable}`).join(", ");
    throw new StorageConfigError(`${error.message} (storage "${storage}"${from ? `: ${from}` : ""}.)`, {
      cause: error,
    });
  }
}

/**
 * Why the private storage must not be built: its prefix is, lies inside or contains the prefix of a
 * storage with unsigned URLs in the same bucket. Inside, the bucket policy that makes that storage
 * readable (`s3:GetObject` on its prefix) covers private files too; containing it (private at `/`,
 * public media at `media/`), every private key under `media/` is an object the unsigned storage
 * serves. Null when the layout is safe. Prefixes are "" or end with "/", so `startsWith` compares
 * whole segments.
 */
function privatePrefixError(resolved: Record<EnvStorageName, ResolvedS3Options>): StorageConfigError | null {
  const secret = resolved.private;
  for (const name of ["default", "staticfiles"] as const) {
    const open = resolved[name];
    if (open.querystringAuth || open.bucketName !== secret.bucketName) continue;
    if (open.endpointUrl?.href !== secret.endpointUrl?.href) continue;
    const inside = secret.keyPrefix.startsWith(open.keyPrefix);
    const contains = open.keyPrefix.startsWith(secret.keyPrefix);
    if (!inside && !contains) continue;
    const relation = inside && contains ? "is" : inside ? "lies inside" : "contains";
    const exposed = inside
      ? `a bucket policy making "${name}" readable would expose private files`
      : `private keys under "${open.keyPrefix}" name objects "${name}" serves without a signature`;
    const folder = name === "default" ? "AWS_PUBLIC_MEDIA_LOCATION" : "AWS_STATIC_LOCATION";
    const signIt = name === "default" ? "AWS_QUERYSTRING_AUTH=true" : "AWS_S3_BUCKET_AUTH_STATIC=true";
    return new StorageConfigError(
      `The private storage's prefix "${secret.keyPrefix}" ${relation} the prefix "${open.keyPrefix}" of the ` +
        `"${name}" storage in bucket "${secret.bucketName}", whose URLs are unsigned: ${exposed}. Give each a ` +
        `prefix of its own, neither inside the other (AWS_PRIVATE_MEDIA_LOCATION, ${folder}), presign ` +
        `"${name}" (${signIt}), or leave "private" out of the configured storages if you do not use it.`,
      { storage: "private" },
    );
  }
  return null;
}

/** The S3 options of the three storages, and why `private` must not be built (or null). */
export interface S3EnvConfig {
  options: Record<EnvStorageName, S3StorageOptions>;
  privateError: StorageConfigError | null;
}

/**
 * The `S3Storage` options of `default`, `private` and `staticfiles` from `env`, validated now (nothing
 * is built). Throws `StorageConfigError` naming the variable for a malformed value or a combination the
 * options refuse; a private prefix overlapping a public one is reported in `privateError`, for the private
 * storage's factory to throw, so a project that leaves `private` out is not refused.
 */
export function s3OptionsFromEnv(env: Env): S3EnvConfig {
  const options = {} as Record<EnvStorageName, S3StorageOptions>;
  const resolved = {} as Record<EnvStorageName, ResolvedS3Options>;
  for (const storage of ALL_STORAGES) {
    const read = readStorage(env, storage);
    applyStorageRules(storage, read);
    resolved[storage] = resolve(storage, read);
    options[storage] = read.options as unknown as S3StorageOptions;
  }
  return { options, privateError: privatePrefixError(resolved) };
}

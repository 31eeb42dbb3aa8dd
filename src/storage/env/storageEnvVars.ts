import type { S3StorageOptions } from "../../drivers/s3/S3StorageOptions";
import type { FileSystemStorageOptions } from "../FileSystemStorage";
import { ALL_STORAGES, type EnvStorageName, S3_ENV_SETTINGS } from "./s3EnvSettings";
import { CREDENTIAL_VARS, LOCATION_VARS } from "./s3OptionsFromEnv";

export type { EnvStorageName } from "./s3EnvSettings";

/** One environment variable `storagesFromEnv` reads. */
export interface StorageEnvVar {
  /** The variable, e.g. `AWS_STORAGE_BUCKET_NAME`. */
  readonly name: string;
  /** The option it sets: `S3Storage`'s on S3, `FileSystemStorage`'s on disk; null when it sets none (`USE_S3`). */
  readonly option: keyof S3StorageOptions | keyof FileSystemStorageOptions | null;
  /** The storages it applies to. */
  readonly storages: ReadonlyArray<EnvStorageName>;
  /** Read when the storages are on `s3`, on local `disk`, or `both` (to choose between them). */
  readonly backend: "s3" | "disk" | "both";
  /** What it does, how it is written, and which name wins when it has aliases. */
  readonly description: string;
}

function s3Vars(): StorageEnvVar[] {
  const vars: StorageEnvVar[] = [];
  for (const { option, names, storages, staticName, description } of S3_ENV_SETTINGS) {
    names.forEach((name, i) => {
      const alias = i === 0 ? "" : ` Alias of ${names[0]}, which wins when both are set.`;
      vars.push({ name, option, storages, backend: "s3", description: `${description}${alias}` });
    });
    if (staticName !== undefined) {
      const description = `staticfiles only (django-s3-storage's _STATIC name), before ${names.join(" / ")}.`;
      vars.push({ name: staticName, option, storages: ["staticfiles"], backend: "s3", description });
    }
  }
  return vars;
}

function locationVars(): StorageEnvVar[] {
  const origin: Record<string, string> = {
    AWS_LOCATION: "django-storages' global location",
    AWS_S3_KEY_PREFIX: "django-s3-storage's name",
    AWS_S3_KEY_PREFIX_STATIC: "django-s3-storage's name",
  };
  const vars: StorageEnvVar[] = [];
  for (const storage of ALL_STORAGES) {
    const { names, fallback } = LOCATION_VARS[storage];
    names.forEach((name, i) => {
      const after = i === 0 ? "" : `; ${origin[name] ?? "alias"}, after ${names.slice(0, i).join(", ")}`;
      const description = `Key prefix of the ${storage} storage (default ${fallback}; / for the bucket root${after}).`;
      vars.push({ name, option: "location", storages: [storage], backend: "s3", description });
    });
  }
  return vars;
}

function credentialVars(): StorageEnvVar[] {
  const descriptions: Record<keyof typeof CREDENTIAL_VARS, string> = {
    sessionProfile: "Profile of the shared AWS config files; first in the credential order, excludes AWS_S3_* keys.",
    accessKey: "Access key id; unset: the SDK's default credential chain.",
    secretKey: "Secret access key.",
    securityToken: "Session token of temporary keys (only with keys from the environment).",
  };
  const vars: StorageEnvVar[] = [];
  for (const option of Object.keys(CREDENTIAL_VARS) as (keyof typeof CREDENTIAL_VARS)[]) {
    const names: ReadonlyArray<string> = CREDENTIAL_VARS[option];
    names.forEach((name, i) => {
      const alias = i === 0 ? "" : ` After ${names.slice(0, i).join(", ")}.`;
      vars.push({
        name,
        option,
        storages: ALL_STORAGES,
        backend: "s3",
        description: `${descriptions[option]}${alias}`,
      });
    });
  }
  return vars;
}

const USE_S3: StorageEnvVar = {
  name: "USE_S3",
  option: null,
  storages: ALL_STORAGES,
  backend: "both",
  description: "true: S3; false: local disk; unset: S3 when AWS_STORAGE_BUCKET_NAME or AWS_S3_BUCKET_NAME is set.",
};

const DISK_VARS: StorageEnvVar[] = [
  {
    name: "MEDIA_ROOT",
    option: "location",
    storages: ["default"],
    backend: "disk",
    description: "Directory of public media (default ./media).",
  },
  {
    name: "MEDIA_URL",
    option: "baseUrl",
    storages: ["default"],
    backend: "disk",
    description: "URL prefix of public media (default /media/).",
  },
  {
    name: "PRIVATE_MEDIA_ROOT",
    option: "location",
    storages: ["private"],
    backend: "disk",
    description: "Directory of private media (default ./private-media).",
  },
  {
    name: "PRIVATE_MEDIA_URL",
    option: "baseUrl",
    storages: ["private"],
    backend: "disk",
    description: "URL prefix of private media (default /private-media/); must not overlap MEDIA_URL.",
  },
  {
    name: "PRIVATE_MEDIA_EXPIRE",
    option: "querystringExpire",
    storages: ["private"],
    backend: "disk",
    description: "Whole seconds a signed private URL lives (default 3600).",
  },
  {
    name: "STORAGES_SIGNING_SECRET",
    option: "signingSecret",
    storages: ["private"],
    backend: "disk",
    description: "HMAC key of signed private URLs, at least 32 bytes; required when NODE_ENV=production.",
  },
  {
    name: "NODE_ENV",
    option: null,
    storages: ["private"],
    backend: "disk",
    description: "production: STORAGES_SIGNING_SECRET is required (elsewhere a per-process secret is used).",
  },
  {
    name: "STATIC_ROOT",
    option: "location",
    storages: ["staticfiles"],
    backend: "disk",
    description: "Directory of static files (default ./static).",
  },
  {
    name: "STATIC_URL",
    option: "baseUrl",
    storages: ["staticfiles"],
    backend: "disk",
    description: "URL prefix of static files (default /static/).",
  },
];

/**
 * Every environment variable `storagesFromEnv` reads, with the option it sets, the storages it applies
 * to and what it does: for docs, config checks and `.env` linting.
 */
export const STORAGE_ENV_VARS: ReadonlyArray<StorageEnvVar> = Object.freeze([
  USE_S3,
  ...locationVars(),
  ...credentialVars(),
  ...s3Vars(),
  ...DISK_VARS,
]);

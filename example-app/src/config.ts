import path from "node:path";
import { usesS3 } from "typeorm-storages";

type Env = Record<string, string | undefined>;

/** The example app's own settings; storages read theirs through `storagesFromEnv`. */
export interface AppConfig {
  /** Interface to listen on (`HOST`, default 127.0.0.1; 0.0.0.0 in a container). */
  host: string;
  /** Port (`PORT`, default 3000; 0 picks a free one). */
  port: number;
  /** Largest upload accepted, in bytes (`UPLOAD_MAX_BYTES`, default 10 MiB). */
  maxUploadBytes: number;
  /** Folder for the SQLite file, local media and the embedded S3 server (`DATA_DIR`, default example-app/data). */
  dataDir: string;
  /** `DATABASE_URL` (postgres://…) selects PostgreSQL; otherwise SQLite through sql.js. */
  databaseUrl: string | undefined;
  /**
   * The SQLite file (`DATABASE_PATH`; by default one per place the media live: `<DATA_DIR>/app.sqlite`
   * on local disk, `app-s3rver-<bucket>.sqlite` with `EMBEDDED_S3`, `app-s3-<bucket>.sqlite` on S3).
   */
  databasePath: string;
  /** `EMBEDDED_S3=1`: start an in-process S3 server (s3rver) and store media on it. */
  embeddedS3: boolean;
  /** `CREATE_BUCKET=1`: create `AWS_STORAGE_BUCKET_NAME` at start when it does not exist. */
  createBucket: boolean;
  /**
   * Direct uploads on S3 larger than this go in parts of this size (`DIRECT_UPLOAD_PART_SIZE`, default
   * 8 MiB, at least 5 MiB).
   */
  partSize: number;
  /**
   * The origins the app is reached at (`APP_ORIGIN`, comma-separated, default `http://127.0.0.1:<PORT>`
   * and `http://localhost:<PORT>`): requests naming another `Host` are refused, and so are posts whose
   * `Origin` is not one of them. `null` with `PORT=0` and no `APP_ORIGIN`, until the port is known.
   */
  origins: string[] | null;
}

/** The bucket `EMBEDDED_S3` stores media in unless `AWS_STORAGE_BUCKET_NAME` names another. */
export const EMBEDDED_BUCKET = "example-media";

/** The app's folder (example-app/), whether running from src/ under a test runner or from dist/. */
export const APP_DIR = path.resolve(__dirname, "..");

function positiveInteger(env: Env, name: string, fallback: number, { allowZero = false } = {}): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || (value === 0 && !allowZero)) {
    throw new Error(
      `${name} must be a ${allowZero ? "non-negative" : "positive"} integer, not ${JSON.stringify(raw)}.`,
    );
  }
  return value;
}

function atLeast(env: Env, name: string, fallback: number, minimum: number): number {
  const value = positiveInteger(env, name, fallback);
  if (value < minimum) throw new Error(`${name} must be at least ${minimum} bytes (S3's smallest part), not ${value}.`);
  return value;
}

function flag(env: Env, name: string): boolean {
  return ["1", "true", "yes", "on"].includes((env[name] ?? "").trim().toLowerCase());
}

/**
 * The default SQLite file's name: one per media backend and bucket. A row holds a key, not where the
 * key lives, so rows written on disk read on S3 (or on another bucket) name keys the new place hands
 * out again to new uploads, and deleting such an old row deletes a new row's file.
 */
function databaseFile(env: Env): string {
  const embedded = flag(env, "EMBEDDED_S3");
  if (!embedded && !usesS3(env)) return "app.sqlite";
  const bucket = embedded
    ? env.AWS_STORAGE_BUCKET_NAME || EMBEDDED_BUCKET
    : env.AWS_STORAGE_BUCKET_NAME || env.AWS_S3_BUCKET_NAME || "";
  // a bucket name is letters, digits, dots and hyphens, but nothing checked this one yet
  return `app-${embedded ? "s3rver" : "s3"}-${bucket.replace(/[^\w.-]/g, "_")}.sqlite`;
}

/** Reads the app's settings from `env`; throws with the variable's name when one is malformed. */
export function readConfig(env: Env = process.env): AppConfig {
  const dataDir = path.resolve(env.DATA_DIR || path.join(APP_DIR, "data"));
  const port = positiveInteger(env, "PORT", 3000, { allowZero: true });
  if (port > 65535) throw new Error(`PORT must be a port number from 0 to 65535, not ${JSON.stringify(env.PORT)}.`);
  return {
    host: env.HOST || "127.0.0.1",
    port,
    maxUploadBytes: positiveInteger(env, "UPLOAD_MAX_BYTES", 10 * 1024 * 1024),
    dataDir,
    databaseUrl: env.DATABASE_URL || undefined,
    databasePath: path.resolve(env.DATABASE_PATH || path.join(dataDir, databaseFile(env))),
    embeddedS3: flag(env, "EMBEDDED_S3"),
    createBucket: flag(env, "CREATE_BUCKET"),
    partSize: atLeast(env, "DIRECT_UPLOAD_PART_SIZE", 8 * 1024 * 1024, 5 * 1024 * 1024),
    origins: appOrigins(env) ?? (port === 0 ? null : defaultOrigins(port)),
  };
}

/** `APP_ORIGIN`'s origins (`https://example.com,http://localhost:3000`); throws on one that is not an origin. */
function appOrigins(env: Env): string[] | null {
  const raw = (env.APP_ORIGIN ?? "").trim();
  if (!raw) return null;
  return raw.split(",").map((entry) => {
    const text = entry.trim();
    let url: URL | null = null;
    try {
      url = new URL(text);
    } catch {}
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== text.replace(/\/$/, "").toLowerCase()) {
      throw new Error(
        `APP_ORIGIN must list origins (scheme://host[:port], comma-separated), not ${JSON.stringify(entry)}.`,
      );
    }
    return url.origin;
  });
}

/** The app's origins on `port`: `http://127.0.0.1:<port>` and `http://localhost:<port>`. */
export function defaultOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

/**
 * The environment handed to `storagesFromEnv`: the process's own, with local folders defaulting to
 * `<DATA_DIR>/media`, `<DATA_DIR>/private-media` and `<DATA_DIR>/static` instead of the working directory.
 */
export function storageEnv(config: AppConfig, env: Env = process.env): Env {
  return {
    MEDIA_ROOT: path.join(config.dataDir, "media"),
    PRIVATE_MEDIA_ROOT: path.join(config.dataDir, "private-media"),
    STATIC_ROOT: path.join(config.dataDir, "static"),
    ...Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== "")),
  };
}

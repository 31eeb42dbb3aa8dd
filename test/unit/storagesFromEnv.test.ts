import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import {
  FileSystemStorage,
  S3Storage,
  STORAGE_ENV_VARS,
  StorageConfigError,
  StorageRegistry,
  storagesFromEnv,
  usesS3,
} from "../../src";
import { S3_OPTION_NAMES } from "../../src/drivers/s3/resolveS3Options";
import type { ResolvedS3Options } from "../../src/drivers/s3/S3StorageOptions";
import type { EnvStorageName } from "../../src/storage/env/storageEnvVars";

const build = (env: Record<string, string | undefined>) => {
  const registry = new StorageRegistry();
  registry.configure(storagesFromEnv(env));
  return registry;
};

const s3Env = {
  AWS_STORAGE_BUCKET_NAME: "bucket",
  AWS_S3_ENDPOINT_URL: "http://127.0.0.1:9",
  AWS_S3_PUBLIC_ENDPOINT_URL: "http://localhost:4566",
  AWS_S3_REGION_NAME: "eu-central-1",
  AWS_S3_ADDRESSING_STYLE: "path",
  AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

describe("storagesFromEnv", () => {
  it("chooses S3 with USE_S3=true or a bucket name, and disk otherwise", () => {
    expect(usesS3({})).toBe(false);
    expect(usesS3({ AWS_STORAGE_BUCKET_NAME: "b" })).toBe(true);
    expect(usesS3({ AWS_STORAGE_BUCKET_NAME: "b", USE_S3: "false" })).toBe(false);
    expect(usesS3({ USE_S3: "true", AWS_STORAGE_BUCKET_NAME: "b" })).toBe(true);
    expect(() => usesS3({ USE_S3: "maybe" })).toThrow(StorageConfigError);
    expect(() => storagesFromEnv({ USE_S3: "true" })).toThrow(/AWS_STORAGE_BUCKET_NAME is not set/);
  });

  it("builds nothing until a storage is used", () => {
    const config = storagesFromEnv({ ...s3Env });
    expect(Object.keys(config).sort()).toEqual(["default", "private", "staticfiles"]);
    expect(Object.values(config).every((entry) => typeof entry === "function")).toBe(true);
  });

  it("puts three S3 storages in one bucket under the seed tutorial's prefixes", async () => {
    const registry = build({ ...s3Env, AWS_PUBLIC_MEDIA_LOCATION: "pub", AWS_DEFAULT_ACL: "public-read" });
    await registry.ready();
    const media = registry.get("default");
    const secret = registry.get("private");
    const statics = registry.get("staticfiles");
    for (const s of [media, secret, statics]) expect(s).toBeInstanceOf(S3Storage);
    expect(media.url("a b.png")).toBe("http://localhost:4566/bucket/pub/a%20b.png");
    expect(statics.url("app.css")).toBe("http://localhost:4566/bucket/static/app.css");
    const signed = new URL(secret.url("c.pdf"));
    expect(signed.pathname).toBe("/bucket/private/c.pdf");
    expect(signed.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    expect(signed.searchParams.get("X-Amz-Expires")).toBe("3600");
  });

  it("keeps private media private whatever public settings are set", async () => {
    const registry = build({
      ...s3Env,
      AWS_DEFAULT_ACL: "public-read",
      AWS_S3_CUSTOM_DOMAIN: "cdn.example.com",
      AWS_QUERYSTRING_AUTH: "false",
      AWS_QUERYSTRING_EXPIRE: "60",
    });
    await registry.ready();
    expect(registry.get("default").url("a.png")).toBe("https://cdn.example.com/media/a.png");
    const signed = new URL(registry.get("private").url("c.pdf"));
    expect(signed.host).not.toBe("cdn.example.com");
    expect(signed.searchParams.get("X-Amz-Expires")).toBe("60");
  });

  it("uses local disk with signed private URLs that never sit under MEDIA_URL", () => {
    const registry = build({
      STORAGES_SIGNING_SECRET: "s".repeat(40),
      MEDIA_ROOT: "/tmp/m",
      PRIVATE_MEDIA_ROOT: "/tmp/p",
    });
    const media = registry.get("default");
    const secret = registry.get("private");
    expect(media).toBeInstanceOf(FileSystemStorage);
    expect(media.url("a.png")).toBe("/media/a.png");
    expect(media.path("a.png")).toBe("/tmp/m/a.png");
    expect(secret.url("c.pdf")).toMatch(/^\/private-media\/c\.pdf\?expires=\d+&signature=[A-Za-z0-9_-]+$/);
    expect(registry.get("staticfiles").url("app.css")).toBe("/static/app.css");
    expect(() => storagesFromEnv({ MEDIA_URL: "/files/", PRIVATE_MEDIA_URL: "/files/private/" })).toThrow(
      /must not overlap MEDIA_URL/,
    );
  });

  it("refuses private media on local disk where a storage without signatures serves it", () => {
    // the same path under an absolute URL: the public handler would answer for the private paths
    expect(() =>
      storagesFromEnv({ MEDIA_URL: "https://cdn.example/media/", PRIVATE_MEDIA_URL: "/media/private/" }),
    ).toThrow(/must not overlap MEDIA_URL/);
    expect(() => storagesFromEnv({ STATIC_URL: "/assets/", PRIVATE_MEDIA_URL: "/assets/private/" })).toThrow(
      /must not overlap STATIC_URL/,
    );
    for (const [root, privateRoot, name] of [
      ["/srv/media", "/srv/media/private", "MEDIA_ROOT"],
      ["/srv/media", "/srv/media", "MEDIA_ROOT"],
      ["/srv/files/media", "/srv/files", "MEDIA_ROOT"],
    ])
      expect(() => storagesFromEnv({ MEDIA_ROOT: root, PRIVATE_MEDIA_ROOT: privateRoot })).toThrow(
        new RegExp(`PRIVATE_MEDIA_ROOT \\(${privateRoot}\\) must not be, contain or lie inside ${name}`),
      );
    expect(() => storagesFromEnv({ STATIC_ROOT: "/srv/static", PRIVATE_MEDIA_ROOT: "/srv/static/p" })).toThrow(
      /lie inside STATIC_ROOT/,
    );
    // siblings with a common name prefix are fine
    expect(() => storagesFromEnv({ MEDIA_ROOT: "/srv/media", PRIVATE_MEDIA_ROOT: "/srv/media-private" })).not.toThrow();
  });

  it("refuses private media on local disk that lies inside MEDIA_ROOT through a symlink", () => {
    const work = mkdtempSync(join(tmpdir(), "symlinked-roots-"));
    try {
      // a common deploy layout: <app>/media is a symlink to <shared>/files
      mkdirSync(join(work, "shared", "files"), { recursive: true });
      symlinkSync(join(work, "shared", "files"), join(work, "app-media"));
      const env = { MEDIA_ROOT: join(work, "app-media"), STORAGES_SIGNING_SECRET: "s".repeat(32) };
      // private/ not made yet: compared below the deepest directory that exists
      const real = realpathSync(work); // the temp directory may itself be a symlink (macOS)
      for (const inner of [["files", "private"], ["files"]]) {
        const make = () => storagesFromEnv({ ...env, PRIVATE_MEDIA_ROOT: join(work, "shared", ...inner) });
        expect(make).toThrow(StorageConfigError);
        expect(make).toThrow(/must not be, contain or lie inside MEDIA_ROOT/);
        expect(make).toThrow(
          `(through symlinks: ${join(real, "shared", ...inner)} and ${join(real, "shared", "files")})`,
        );
      }
      mkdirSync(join(work, "shared", "files", "private"));
      expect(() => storagesFromEnv({ ...env, PRIVATE_MEDIA_ROOT: join(work, "shared", "files", "private") })).toThrow(
        /through symlinks/,
      );
      // and the other way round: a symlinked private root over the public files
      symlinkSync(join(work, "shared"), join(work, "app-private"));
      expect(() => storagesFromEnv({ ...env, PRIVATE_MEDIA_ROOT: join(work, "app-private") })).toThrow(
        /through symlinks/,
      );
      expect(() => storagesFromEnv({ ...env, PRIVATE_MEDIA_ROOT: join(work, "shared", "private") })).not.toThrow();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("requires a signing secret in production and warns without one elsewhere", () => {
    const prod = build({ NODE_ENV: "production" });
    expect(() => prod.get("private")).toThrow(/STORAGES_SIGNING_SECRET is required in production/);
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      expect(build({}).get("private").url("x.pdf")).toContain("signature=");
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/per-process secret/));
    } finally {
      warn.mockRestore();
    }
  });

  it("refuses malformed disk values at storagesFromEnv(), naming the variable, before any storage is built", () => {
    const roots = { MEDIA_ROOT: "/tmp/m", PRIVATE_MEDIA_ROOT: "/tmp/p", STORAGES_SIGNING_SECRET: "s".repeat(32) };
    for (const [value, message] of [
      ["1h", /^PRIVATE_MEDIA_EXPIRE must be a whole number of seconds from 1 to \d+, not "1h"/],
      ["0", /^PRIVATE_MEDIA_EXPIRE must be a whole number/],
      ["1.5", /^PRIVATE_MEDIA_EXPIRE must be a whole number/],
      ["1e12", /^PRIVATE_MEDIA_EXPIRE must be a whole number/],
    ] as const) {
      expect(() => storagesFromEnv({ ...roots, PRIVATE_MEDIA_EXPIRE: value })).toThrow(StorageConfigError);
      expect(() => storagesFromEnv({ ...roots, PRIVATE_MEDIA_EXPIRE: value })).toThrow(message);
    }
    expect(
      build({ ...roots, PRIVATE_MEDIA_EXPIRE: " 600 " })
        .get("private")
        .url("a.pdf"),
    ).toMatch(/expires=/);
    // a short secret broke public media too (it signs direct uploads), and named no variable
    const short = () => storagesFromEnv({ ...roots, STORAGES_SIGNING_SECRET: "short" });
    expect(short).toThrow(StorageConfigError);
    expect(short).toThrow(/^STORAGES_SIGNING_SECRET is 5 bytes; it must be at least 32 bytes of random data/);
  });

  it("lets public media on local disk take direct uploads with the same secret, where there is one", async () => {
    const withSecret = build({ STORAGES_SIGNING_SECRET: "s".repeat(40), MEDIA_ROOT: "/tmp/m" });
    const upload = await withSecret.get("default").createUpload("a.txt", { size: 1 });
    expect(upload.url).toMatch(/^\/media\/a\.txt\?expires=\d+&upload-size=1&signature=/);
    expect(withSecret.get("default").url("a.txt")).toBe("/media/a.txt"); // plain URLs stay plain
    // production without a secret: public media still works, direct uploads say what is missing
    const prod = build({ NODE_ENV: "production", MEDIA_ROOT: "/tmp/m" });
    expect(prod.get("default").url("a.txt")).toBe("/media/a.txt");
    await expect(prod.get("default").createUpload("a.txt", { size: 1 })).rejects.toThrow(/signingSecret/);
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      const dev = build({ MEDIA_ROOT: "/tmp/m" });
      await dev.get("default").createUpload("a.txt", { size: 1 });
      expect(dev.get("private").url("x.pdf")).toContain("signature=");
      expect(warn).toHaveBeenCalledTimes(1); // one per-process secret, one warning
    } finally {
      warn.mockRestore();
    }
  });

  it("honours absolute MEDIA_URL values", () => {
    expect(build({ MEDIA_URL: "https://files.example.com/m" }).get("default").url("a.png")).toBe(
      "https://files.example.com/m/a.png",
    );
  });
});

type Settings = ResolvedS3Options;
type Env = Record<string, string | undefined>;

const s3 = (env: Env, name: EnvStorageName) => {
  const registry = new StorageRegistry();
  registry.configure(storagesFromEnv({ ...s3Env, ...env }));
  return registry.get(name) as S3Storage;
};
const settings = (env: Env, name: EnvStorageName): Settings => s3(env, name).settings;

function configError(env: Env): StorageConfigError {
  try {
    storagesFromEnv({ ...s3Env, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(StorageConfigError);
    return error as StorageConfigError;
  }
  throw new Error("expected a StorageConfigError");
}

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
const cloudFront = {
  AWS_CLOUDFRONT_KEY: pem,
  AWS_CLOUDFRONT_KEY_ID: "K2JCJMDEHXQW5F",
  AWS_S3_CUSTOM_DOMAIN: "cdn.example.com",
};
const signing = { AWS_QUERYSTRING_AUTH: "true", AWS_S3_BUCKET_AUTH_STATIC: "true" };
const MiB = 1024 * 1024;
const transfer = { multipartThreshold: MiB, multipartChunksize: 6 * MiB, maxConcurrency: 2 };

/**
 * One sample per S3 variable: the environment that sets it (on top of s3Env), what to read from the
 * settings of each storage the variable lists, and the value expected there.
 */
const SAMPLES: Record<string, [Env, (s: Settings) => unknown, unknown]> = {
  USE_S3: [{ USE_S3: "true" }, (s) => s.bucketName, "bucket"],
  AWS_LOCATION: [{ AWS_LOCATION: "/uploads/" }, (s) => s.keyPrefix, "uploads/"],
  AWS_S3_KEY_PREFIX: [{ AWS_S3_KEY_PREFIX: "site/media" }, (s) => s.keyPrefix, "site/media/"],
  AWS_S3_KEY_PREFIX_STATIC: [{ AWS_S3_KEY_PREFIX_STATIC: "assets" }, (s) => s.keyPrefix, "assets/"],
  AWS_PUBLIC_MEDIA_LOCATION: [{ AWS_PUBLIC_MEDIA_LOCATION: "pub" }, (s) => s.keyPrefix, "pub/"],
  AWS_PRIVATE_MEDIA_LOCATION: [{ AWS_PRIVATE_MEDIA_LOCATION: "secret" }, (s) => s.keyPrefix, "secret/"],
  AWS_STATIC_LOCATION: [{ AWS_STATIC_LOCATION: "assets" }, (s) => s.keyPrefix, "assets/"],
  AWS_S3_SESSION_PROFILE: [
    { AWS_S3_SESSION_PROFILE: "dev" },
    (s) => [s.sessionProfile, s.accessKey],
    ["dev", undefined],
  ],
  AWS_S3_ACCESS_KEY_ID: [
    { AWS_S3_ACCESS_KEY_ID: "AKIDS3", AWS_S3_SECRET_ACCESS_KEY: "s3secret" },
    (s) => [s.accessKey, s.secretKey],
    ["AKIDS3", "s3secret"],
  ],
  AWS_ACCESS_KEY_ID: [{ AWS_ACCESS_KEY_ID: "AKIDOTHER" }, (s) => s.accessKey, "AKIDOTHER"],
  AWS_S3_SECRET_ACCESS_KEY: [
    { AWS_S3_SECRET_ACCESS_KEY: "s3secret", AWS_S3_ACCESS_KEY_ID: "AKIDS3" },
    (s) => s.secretKey,
    "s3secret",
  ],
  AWS_SECRET_ACCESS_KEY: [{ AWS_SECRET_ACCESS_KEY: "other-secret" }, (s) => s.secretKey, "other-secret"],
  AWS_S3_SESSION_TOKEN: [{ AWS_S3_SESSION_TOKEN: "t1", AWS_SESSION_TOKEN: "t2" }, (s) => s.securityToken, "t1"],
  AWS_SESSION_TOKEN: [{ AWS_SESSION_TOKEN: "t2", AWS_SECURITY_TOKEN: "t3" }, (s) => s.securityToken, "t2"],
  AWS_SECURITY_TOKEN: [{ AWS_SECURITY_TOKEN: "t3" }, (s) => s.securityToken, "t3"],
  AWS_STORAGE_BUCKET_NAME: [{ AWS_STORAGE_BUCKET_NAME: "other" }, (s) => s.bucketName, "other"],
  AWS_S3_BUCKET_NAME: [{ AWS_STORAGE_BUCKET_NAME: undefined, AWS_S3_BUCKET_NAME: "dss" }, (s) => s.bucketName, "dss"],
  AWS_S3_BUCKET_NAME_STATIC: [{ AWS_S3_BUCKET_NAME_STATIC: "assets" }, (s) => s.bucketName, "assets"],
  AWS_S3_REGION_NAME: [{ AWS_S3_REGION_NAME: "eu-west-3" }, (s) => s.regionName, "eu-west-3"],
  AWS_REGION: [{ AWS_S3_REGION_NAME: undefined, AWS_REGION: "ap-south-1" }, (s) => s.regionName, "ap-south-1"],
  AWS_S3_ENDPOINT_URL: [{ AWS_S3_ENDPOINT_URL: "http://minio:9000" }, (s) => s.endpointUrl?.href, "http://minio:9000/"],
  AWS_S3_ENDPOINT_URL_STATIC: [
    { AWS_S3_ENDPOINT_URL_STATIC: "https://static.example.com" },
    (s) => s.endpointUrl?.href,
    "https://static.example.com/",
  ],
  AWS_S3_PUBLIC_ENDPOINT_URL: [
    { AWS_S3_PUBLIC_ENDPOINT_URL: "http://localhost:9000" },
    (s) => s.publicEndpointUrl?.href,
    "http://localhost:9000/",
  ],
  AWS_S3_ADDRESSING_STYLE: [{ AWS_S3_ADDRESSING_STYLE: "virtual" }, (s) => s.addressingStyle, "virtual"],
  AWS_S3_ADDRESSING_STYLE_STATIC: [{ AWS_S3_ADDRESSING_STYLE_STATIC: "auto" }, (s) => s.addressingStyle, "auto"],
  AWS_S3_USE_SSL: [{ AWS_S3_USE_SSL: "False" }, (s) => s.useSsl, false],
  AWS_S3_VERIFY: [{ AWS_S3_VERIFY: "false" }, (s) => s.verify, false],
  AWS_S3_PROXIES: [
    { AWS_S3_PROXIES: '{"https": "http://proxy:3128", "http://minio.internal": "other:3128"}' },
    (s) => s.proxies,
    { https: "http://proxy:3128", "http://minio.internal": "other:3128" },
  ],
  // Accepted, and has nothing to resolve to: SigV4 is the only signature there is (see the rejections below).
  AWS_S3_SIGNATURE_VERSION: [{ AWS_S3_SIGNATURE_VERSION: "s3v4" }, (s) => s.bucketName, "bucket"],
  AWS_S3_SIGNATURE_VERSION_STATIC: [{ AWS_S3_SIGNATURE_VERSION_STATIC: "s3v4" }, (s) => s.bucketName, "bucket"],
  AWS_DEFAULT_ACL: [{ AWS_DEFAULT_ACL: "public-read" }, (s) => s.defaultAcl, "public-read"],
  AWS_S3_OBJECT_PARAMETERS: [
    { AWS_S3_OBJECT_PARAMETERS: '{"CacheControl": "max-age=86400", "Tagging": "app=web"}' },
    (s) => s.objectParameters,
    { CacheControl: "max-age=86400", Tagging: "app=web" },
  ],
  AWS_S3_STORAGE_CLASS: [{ AWS_S3_STORAGE_CLASS: "STANDARD_IA" }, (s) => s.storageClass, "STANDARD_IA"],
  AWS_S3_REDUCED_REDUNDANCY: [{ AWS_S3_REDUCED_REDUNDANCY: "true" }, (s) => s.storageClass, "REDUCED_REDUNDANCY"],
  AWS_S3_REDUCED_REDUNDANCY_STATIC: [
    { AWS_S3_REDUCED_REDUNDANCY_STATIC: "1" },
    (s) => s.storageClass,
    "REDUCED_REDUNDANCY",
  ],
  AWS_S3_ENCRYPT_KEY: [{ AWS_S3_ENCRYPT_KEY: "True" }, (s) => s.encryptKey, true],
  AWS_S3_ENCRYPT_KEY_STATIC: [{ AWS_S3_ENCRYPT_KEY_STATIC: "AES256" }, (s) => s.encryptKey, true],
  AWS_S3_KMS_ENCRYPTION_KEY_ID: [
    { AWS_S3_KMS_ENCRYPTION_KEY_ID: "alias/app" },
    (s) => s.kmsEncryptionKeyId,
    "alias/app",
  ],
  AWS_S3_KMS_ENCRYPTION_KEY_ID_STATIC: [
    { AWS_S3_KMS_ENCRYPTION_KEY_ID_STATIC: "alias/static" },
    (s) => s.kmsEncryptionKeyId,
    "alias/static",
  ],
  AWS_S3_CONTENT_DISPOSITION: [{ AWS_S3_CONTENT_DISPOSITION: "inline" }, (s) => s.contentDisposition, "inline"],
  AWS_S3_CONTENT_DISPOSITION_STATIC: [
    { AWS_S3_CONTENT_DISPOSITION_STATIC: "attachment" },
    (s) => s.contentDisposition,
    "attachment",
  ],
  AWS_S3_CONTENT_LANGUAGE: [{ AWS_S3_CONTENT_LANGUAGE: "de" }, (s) => s.contentLanguage, "de"],
  AWS_S3_CONTENT_LANGUAGE_STATIC: [{ AWS_S3_CONTENT_LANGUAGE_STATIC: "fr" }, (s) => s.contentLanguage, "fr"],
  AWS_S3_METADATA: [{ AWS_S3_METADATA: '{"owner": "web"}' }, (s) => s.metadata, { owner: "web" }],
  AWS_S3_METADATA_STATIC: [{ AWS_S3_METADATA_STATIC: '{"build": "42"}' }, (s) => s.metadata, { build: "42" }],
  AWS_S3_MAX_AGE_SECONDS: [{ AWS_S3_MAX_AGE_SECONDS: "600" }, (s) => s.maxAgeSeconds, 600],
  AWS_S3_MAX_AGE_SECONDS_STATIC: [{ AWS_S3_MAX_AGE_SECONDS_STATIC: "31536000" }, (s) => s.maxAgeSeconds, 31536000],
  AWS_S3_MAX_AGE_SECONDS_CACHED_STATIC: [
    { AWS_S3_MAX_AGE_SECONDS_CACHED_STATIC: "31536000" },
    (s) => s.maxAgeSecondsCached,
    31536000,
  ],
  AWS_S3_PENDING_UPLOAD_TAG: [
    { AWS_S3_PENDING_UPLOAD_TAG: "upload=pending" },
    (s) => s.pendingUploadTag,
    { key: "upload", value: "pending" },
  ],
  AWS_IS_GZIPPED: [{ AWS_IS_GZIPPED: "true" }, (s) => s.gzip, true],
  AWS_S3_GZIP: [{ AWS_S3_GZIP: "true" }, (s) => s.gzip, true],
  AWS_S3_GZIP_STATIC: [{ AWS_S3_GZIP_STATIC: "yes" }, (s) => s.gzip, true],
  GZIP_CONTENT_TYPES: [
    { GZIP_CONTENT_TYPES: "text/css, application/json,," },
    (s) => [...s.gzipContentTypes],
    ["text/css", "application/json"],
  ],
  AWS_QUERYSTRING_AUTH: [{ AWS_QUERYSTRING_AUTH: "true" }, (s) => s.querystringAuth, true],
  AWS_S3_BUCKET_AUTH: [{ AWS_S3_BUCKET_AUTH: "true" }, (s) => s.querystringAuth, true],
  AWS_S3_BUCKET_AUTH_STATIC: [{ AWS_S3_BUCKET_AUTH_STATIC: "true" }, (s) => s.querystringAuth, true],
  AWS_QUERYSTRING_EXPIRE: [{ AWS_QUERYSTRING_EXPIRE: "60" }, (s) => s.querystringExpire, 60],
  AWS_S3_CUSTOM_DOMAIN: [{ ...cloudFront }, (s) => s.customDomain, "cdn.example.com"],
  AWS_S3_URL_PROTOCOL: [{ ...cloudFront, AWS_S3_URL_PROTOCOL: "http:" }, (s) => s.urlProtocol, "http:"],
  AWS_S3_PUBLIC_URL: [
    { AWS_S3_PUBLIC_URL: "https://cdn.example.com/media" },
    (s) => s.publicUrl,
    "https://cdn.example.com/media/",
  ],
  AWS_S3_PUBLIC_URL_STATIC: [
    { AWS_S3_PUBLIC_URL_STATIC: "https://cdn.example.com/static/" },
    (s) => s.publicUrl,
    "https://cdn.example.com/static/",
  ],
  AWS_CLOUDFRONT_KEY: [
    { ...cloudFront, ...signing },
    (s) => [s.cloudfrontKey, typeof s.cloudfrontSigner],
    [pem, "function"],
  ],
  AWS_CLOUDFRONT_KEY_ID: [{ ...cloudFront, ...signing }, (s) => s.cloudfrontKeyId, "K2JCJMDEHXQW5F"],
  AWS_S3_FILE_OVERWRITE: [{ AWS_S3_FILE_OVERWRITE: "true" }, (s) => s.fileOverwrite, true],
  AWS_S3_FILE_OVERWRITE_STATIC: [{ AWS_S3_FILE_OVERWRITE_STATIC: "false" }, (s) => s.fileOverwrite, false],
  AWS_S3_MULTIPART_THRESHOLD: [{ AWS_S3_MULTIPART_THRESHOLD: String(MiB) }, (s) => s.multipartThreshold, MiB],
  AWS_S3_MULTIPART_CHUNKSIZE: [{ AWS_S3_MULTIPART_CHUNKSIZE: String(16 * MiB) }, (s) => s.multipartChunksize, 16 * MiB],
  AWS_S3_MAX_CONCURRENCY: [{ AWS_S3_MAX_CONCURRENCY: "8" }, (s) => s.maxConcurrency, 8],
  AWS_S3_USE_THREADS: [{ AWS_S3_USE_THREADS: "false", AWS_S3_MAX_CONCURRENCY: "8" }, (s) => s.maxConcurrency, 1],
  AWS_S3_USE_THREADS_STATIC: [{ AWS_S3_USE_THREADS_STATIC: "off" }, (s) => s.maxConcurrency, 1],
  AWS_S3_TRANSFER_CONFIG: [
    {
      AWS_S3_TRANSFER_CONFIG:
        '{"multipart_threshold": 1048576, "multipart_chunksize": 6291456, "max_concurrency": 2, "use_threads": true}',
    },
    (s) => ({
      multipartThreshold: s.multipartThreshold,
      multipartChunksize: s.multipartChunksize,
      maxConcurrency: s.maxConcurrency,
    }),
    transfer,
  ],
};

describe("storagesFromEnv: every S3 variable", () => {
  const s3Vars = STORAGE_ENV_VARS.filter((v) => v.backend !== "disk");

  it("has a sample here, and each name is listed once", () => {
    expect(s3Vars.map((v) => v.name).sort()).toEqual(Object.keys(SAMPLES).sort());
    const names = STORAGE_ENV_VARS.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(s3Vars.flatMap((v) => v.storages.map((storage) => [v.name, storage, v.option] as const)))(
    "%s sets the %s storage's %s",
    (name, storage) => {
      const [env, pick, want] = SAMPLES[name] as [Env, (s: Settings) => unknown, unknown];
      expect(pick(settings(env, storage))).toEqual(want);
    },
  );

  it("documents every variable in the README", () => {
    const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
    const missing = STORAGE_ENV_VARS.map((v) => v.name).filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it("covers every S3Storage option except those only code can give", () => {
    const codeOnly = ["cloudfrontSigner", "clientConfig", "client", "allowUnsafeInline"];
    const read = new Set(STORAGE_ENV_VARS.filter((v) => v.backend === "s3").map((v) => v.option));
    expect(S3_OPTION_NAMES.filter((option) => !read.has(option) && !codeOnly.includes(option))).toEqual([]);
  });
});

describe("storagesFromEnv: aliases and precedence", () => {
  it.each([
    ["AWS_STORAGE_BUCKET_NAME", "AWS_S3_BUCKET_NAME", (s: Settings) => s.bucketName, "ds", "dss", "ds"],
    ["AWS_LOCATION", "AWS_S3_KEY_PREFIX", (s: Settings) => s.keyPrefix, "ds", "dss", "ds/"],
    ["AWS_PUBLIC_MEDIA_LOCATION", "AWS_LOCATION", (s: Settings) => s.keyPrefix, "pub", "ds", "pub/"],
    ["AWS_QUERYSTRING_AUTH", "AWS_S3_BUCKET_AUTH", (s: Settings) => s.querystringAuth, "false", "true", false],
    ["AWS_IS_GZIPPED", "AWS_S3_GZIP", (s: Settings) => s.gzip, "true", "false", true],
    ["AWS_S3_REGION_NAME", "AWS_REGION", (s: Settings) => s.regionName, "eu-west-1", "us-west-2", "eu-west-1"],
    ["AWS_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID", (s: Settings) => s.accessKey, "AKIDS3", "AKIDGENERIC", "AKIDS3"],
  ] as const)("%s wins over %s", (winner, alias, pick, winning, losing, expected) => {
    expect(pick(settings({ [alias]: losing, [winner]: winning }, "default"))).toBe(expected);
  });

  it("takes credentials in django-storages' order: profile, AWS_S3_* keys, AWS_* keys, then the SDK chain", () => {
    expect(settings({ AWS_S3_SESSION_PROFILE: "dev" }, "default")).toMatchObject({
      sessionProfile: "dev",
      accessKey: undefined,
      secretKey: undefined,
    });
    expect(settings({ AWS_S3_ACCESS_KEY_ID: "AKIDS3", AWS_S3_SECRET_ACCESS_KEY: "s3secret" }, "private")).toMatchObject(
      { accessKey: "AKIDS3", secretKey: "s3secret", sessionProfile: undefined },
    );
    expect(settings({}, "staticfiles")).toMatchObject({ accessKey: "AKIDEXAMPLE" });
    expect(
      settings({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SESSION_TOKEN: "t" }, "default"),
    ).toMatchObject({
      accessKey: undefined,
      secretKey: undefined,
      securityToken: undefined,
      sessionProfile: undefined,
    });
  });

  it("refuses a profile next to AWS_S3_* keys, as django-storages does", () => {
    const error = configError({ AWS_S3_SESSION_PROFILE: "dev", AWS_S3_ACCESS_KEY_ID: "AKIDS3" });
    expect(error.message).toMatch(/AWS_S3_SESSION_PROFILE and AWS_S3_ACCESS_KEY_ID are both set/);
  });

  it("keeps AWS_LOCATION's Django meaning: the default storage's prefix, / for the bucket root", () => {
    const env = { AWS_LOCATION: "uploads" };
    expect(settings(env, "default").keyPrefix).toBe("uploads/");
    expect(settings(env, "private").keyPrefix).toBe("private/");
    expect(settings(env, "staticfiles").keyPrefix).toBe("static/");
    expect(settings({ AWS_STATIC_LOCATION: "/", AWS_S3_KEY_PREFIX_STATIC: "build" }, "staticfiles").keyPrefix).toBe("");
    expect(settings({ AWS_S3_KEY_PREFIX_STATIC: "build" }, "staticfiles").keyPrefix).toBe("build/");
    expect(configError({ AWS_PRIVATE_MEDIA_LOCATION: "a/../b" }).message).toContain(
      'location "a/../b" must not contain ".", ".." or empty segments. (storage "private": location comes from AWS_PRIVATE_MEDIA_LOCATION.)',
    );
  });

  it("refuses to build a private storage inside the prefix of a storage with unsigned URLs in the same bucket", () => {
    const registry = build({ ...s3Env, AWS_LOCATION: "/" });
    expect(() => registry.get("private")).toThrow(
      /private storage's prefix "private\/" lies inside the prefix "" of the "default" storage .*\(AWS_QUERYSTRING_AUTH=true\)/,
    );
    expect(registry.get("default")).toBeInstanceOf(S3Storage);
    const { private: _unused, ...withoutPrivate } = storagesFromEnv({ ...s3Env, AWS_LOCATION: "/" });
    expect(Object.keys(withoutPrivate)).toEqual(["default", "staticfiles"]);
    const nested = build({ ...s3Env, AWS_STATIC_LOCATION: "files", AWS_PRIVATE_MEDIA_LOCATION: "files/private" });
    expect(() => nested.get("private")).toThrow(
      /inside the prefix "files\/" of the "staticfiles" storage .*\(AWS_S3_BUCKET_AUTH_STATIC=true\)/,
    );
    // Signed, or in another bucket: no policy for the public storage reaches the private prefix.
    expect(settings({ AWS_LOCATION: "/", AWS_QUERYSTRING_AUTH: "true" }, "private").keyPrefix).toBe("private/");
    const apart = { AWS_STATIC_LOCATION: "/", AWS_S3_BUCKET_NAME_STATIC: "assets" };
    expect(settings(apart, "private").keyPrefix).toBe("private/");
  });

  it("refuses to build a private storage whose prefix contains, or is, the prefix of a storage with unsigned URLs", () => {
    // private at the bucket root, public media at media/: private keys under media/ are served unsigned
    const root = build({ ...s3Env, AWS_PRIVATE_MEDIA_LOCATION: "/" });
    const error = (() => {
      try {
        root.get("private");
      } catch (thrown) {
        return thrown as StorageConfigError;
      }
    })();
    expect(error).toBeInstanceOf(StorageConfigError);
    expect(error?.message).toMatch(
      /^Could not build storage "private": The private storage's prefix "" contains the prefix "media\/" of the "default" storage .*private keys under "media\/" name objects "default" serves without a signature\. Give each a prefix of its own/,
    );
    expect(error?.storage).toBe("private");
    expect(root.get("default")).toBeInstanceOf(S3Storage);
    const statics = build({ ...s3Env, AWS_PRIVATE_MEDIA_LOCATION: "files", AWS_STATIC_LOCATION: "files/static" });
    expect(() => statics.get("private")).toThrow(
      /"files\/" contains the prefix "files\/static\/" of the "staticfiles"/,
    );
    const same = build({ ...s3Env, AWS_PRIVATE_MEDIA_LOCATION: "media" });
    expect(() => same.get("private")).toThrow(/prefix "media\/" is the prefix "media\/" of the "default" storage/);
    // a sibling sharing the first letters is apart: prefixes compare by whole segments
    expect(
      settings({ AWS_PRIVATE_MEDIA_LOCATION: "med", AWS_PUBLIC_MEDIA_LOCATION: "media" }, "private").keyPrefix,
    ).toBe("med/");
    // at the root it contains every prefix: fine when the others are signed or in another bucket
    const apart = {
      AWS_PRIVATE_MEDIA_LOCATION: "/",
      AWS_QUERYSTRING_AUTH: "true",
      AWS_S3_BUCKET_NAME_STATIC: "assets",
    };
    expect(settings(apart, "private").keyPrefix).toBe("");
  });

  it("takes an AWS_QUERYSTRING_EXPIRE beyond 7 days for CloudFront-signed private media, unused by the unsigned storages", () => {
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const env = {
      AWS_S3_CUSTOM_DOMAIN: "cdn.example.com",
      AWS_CLOUDFRONT_KEY: privateKey,
      AWS_CLOUDFRONT_KEY_ID: "K2JCJMDEHXQW5F",
      AWS_QUERYSTRING_EXPIRE: String(30 * 24 * 3600),
    };
    expect(settings(env, "private").querystringExpire).toBe(30 * 24 * 3600);
    expect(settings(env, "default").querystringExpire).toBe(30 * 24 * 3600);
    // S3 presigning still stops at SigV4's 7 days
    expect(() => settings({ AWS_QUERYSTRING_EXPIRE: String(30 * 24 * 3600) }, "private")).toThrow(/1 to 604800/);
  });

  it("reads dates in AWS_S3_OBJECT_PARAMETERS, which JSON cannot hold, as boto3 does", () => {
    const at = settings({ AWS_S3_OBJECT_PARAMETERS: '{"Expires": "Sun, 01 Dec 2030 16:00:00 GMT"}' }, "default");
    expect(at.objectParameters.Expires).toEqual(new Date("2030-12-01T16:00:00Z"));
    const epoch = settings({ AWS_S3_OBJECT_PARAMETERS: '{"Expires": 1922457600}' }, "default");
    expect(epoch.objectParameters.Expires).toEqual(new Date(1922457600 * 1000));
    expect(() => settings({ AWS_S3_OBJECT_PARAMETERS: '{"Expires": "soon"}' }, "default")).toThrow(
      /objectParameters.Expires must be a date, got "soon"/,
    );
  });

  it("lets presigned default and static URLs live AWS_S3_MAX_AGE_SECONDS, as django-s3-storage does, but not private ones", () => {
    const env = { AWS_S3_BUCKET_AUTH: "true", AWS_S3_MAX_AGE_SECONDS: "7200" };
    expect(settings(env, "default").querystringExpire).toBe(7200);
    expect(settings(env, "private").querystringExpire).toBe(3600);
    expect(settings({ ...env, AWS_QUERYSTRING_EXPIRE: "60" }, "default").querystringExpire).toBe(60);
    expect(settings({ ...env, AWS_S3_MAX_AGE_SECONDS: "31536000" }, "default").querystringExpire).toBe(604800);
    expect(settings({ AWS_S3_MAX_AGE_SECONDS: "31536000" }, "default").querystringExpire).toBe(3600);
  });

  it("reads AWS_S3_ENCRYPT_KEY=aws:kms as SSE-KMS, with the key id when there is one", () => {
    const managed = s3({ AWS_S3_ENCRYPT_KEY: "aws:kms" }, "default");
    expect(managed.settings.encryptKey).toBe(false);
    expect(managed.getObjectParameters("a.txt").ServerSideEncryption).toBe("aws:kms");
    const own = s3({ AWS_S3_ENCRYPT_KEY: "aws:kms", AWS_S3_KMS_ENCRYPTION_KEY_ID: "alias/app" }, "default");
    expect(own.getObjectParameters("a.txt")).toMatchObject({
      ServerSideEncryption: "aws:kms",
      SSEKMSKeyId: "alias/app",
    });
  });

  it("takes a CA bundle path for AWS_S3_VERIFY and CloudFront keys with \\n for newlines", () => {
    const dir = mkdtempSync(join(tmpdir(), "verify-"));
    const bundle = join(dir, "ca.pem");
    writeFileSync(bundle, tls.rootCertificates.slice(0, 2).join("\n"));
    try {
      expect(settings({ AWS_S3_VERIFY: bundle }, "default").verify).toBe(bundle);
      expect(settings({ AWS_S3_VERIFY: "TRUE" }, "default").verify).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const oneLine = { ...cloudFront, AWS_CLOUDFRONT_KEY: pem.trim().replace(/\n/g, "\\n") };
    const signer = settings(oneLine, "private").cloudfrontSigner as (url: string, expiresAt: Date) => string;
    const url = new URL(signer("https://cdn.example.com/private/a.pdf", new Date(Date.now() + 60_000)));
    expect(url.searchParams.get("Key-Pair-Id")).toBe("K2JCJMDEHXQW5F");
    expect(url.searchParams.get("Signature")).toBeTruthy();
  });

  it("ignores AWS_S3_MAX_MEMORY_SIZE: reads and writes stream", () => {
    expect(settings({ AWS_S3_MAX_MEMORY_SIZE: "1000" }, "default").bucketName).toBe("bucket");
  });
});

describe("storagesFromEnv: bad values name their variable", () => {
  it.each([
    [{ AWS_S3_USE_SSL: "maybe" }, /^AWS_S3_USE_SSL must be true or false, not "maybe"/],
    [{ AWS_QUERYSTRING_EXPIRE: "1h" }, /^AWS_QUERYSTRING_EXPIRE must be a whole number/],
    [{ AWS_S3_MAX_AGE_SECONDS: "-1" }, /^AWS_S3_MAX_AGE_SECONDS must be a whole number/],
    [
      { AWS_S3_OBJECT_PARAMETERS: "{CacheControl: max-age=60}" },
      /^AWS_S3_OBJECT_PARAMETERS must be a JSON object .* not valid JSON/,
    ],
    [
      { AWS_S3_OBJECT_PARAMETERS: "{'CacheControl': 'max-age=60'}" },
      /AWS_S3_OBJECT_PARAMETERS .* JSON is not Python: use double quotes/,
    ],
    [
      { AWS_S3_OBJECT_PARAMETERS: '{"Cache-Control": "max-age=60"}' },
      /objectParameters has no parameter "Cache-Control" \(did you mean CacheControl\?\).*objectParameters comes from AWS_S3_OBJECT_PARAMETERS/,
    ],
    [
      { GZIP_CONTENT_TYPES: '["text/css", "application/javascript"]' },
      /gzipContentTypes entry "\[\\"text\/css\\"" is not a content type.*comma-separated.*gzipContentTypes comes from GZIP_CONTENT_TYPES/,
    ],
    [{ AWS_S3_METADATA: '["owner"]' }, /^AWS_S3_METADATA must be a JSON object like .*, not \["owner"\]/],
    [{ AWS_S3_METADATA: '{"build": 42}' }, /^AWS_S3_METADATA: the value of "build" must be a string, not 42/],
    [{ AWS_S3_PROXIES: "http://proxy:3128" }, /^AWS_S3_PROXIES must be a JSON object/],
    [
      { AWS_S3_TRANSFER_CONFIG: '{"max_io_queue": 100}' },
      /^AWS_S3_TRANSFER_CONFIG: "max_io_queue" is not supported; use multipart_threshold/,
    ],
    [{ AWS_S3_TRANSFER_CONFIG: '{"use_threads": "no"}' }, /^AWS_S3_TRANSFER_CONFIG: use_threads must be true or false/],
    [{ AWS_S3_TRANSFER_CONFIG: "8MB" }, /^AWS_S3_TRANSFER_CONFIG must be a JSON object/],
    [{ AWS_S3_ENCRYPT_KEY: "kms" }, /^AWS_S3_ENCRYPT_KEY must be true, false, AES256 or aws:kms/],
    [{ AWS_S3_GZIP_STATIC: "gzip" }, /^AWS_S3_GZIP_STATIC must be true or false/],
    [
      { AWS_S3_ADDRESSING_STYLE: "dns" },
      /addressingStyle must be .*\(storage "default": addressingStyle comes from AWS_S3_ADDRESSING_STYLE\.\)/,
    ],
    [{ AWS_S3_MULTIPART_CHUNKSIZE: "1024" }, /multipartChunksize comes from AWS_S3_MULTIPART_CHUNKSIZE/],
    [
      { AWS_S3_TRANSFER_CONFIG: '{"multipart_chunksize": 1024}' },
      /multipartChunksize comes from AWS_S3_TRANSFER_CONFIG/,
    ],
    [
      { AWS_S3_SIGNATURE_VERSION: "s3" },
      /signatureVersion "s3" is not supported.*signatureVersion comes from AWS_S3_SIGNATURE_VERSION/,
    ],
    [
      { AWS_S3_SIGNATURE_VERSION_STATIC: "s3" },
      /\(storage "staticfiles": signatureVersion comes from AWS_S3_SIGNATURE_VERSION_STATIC/,
    ],
    [{ AWS_DEFAULT_ACL: "public" }, /defaultAcl must be one of .*defaultAcl comes from AWS_DEFAULT_ACL/],
    [
      { AWS_S3_ENDPOINT_URL: "minio:9000" },
      /endpointUrl must be an absolute URL.*endpointUrl comes from AWS_S3_ENDPOINT_URL/,
    ],
    [{ AWS_CLOUDFRONT_KEY_ID: "K1" }, /cloudfrontKey and cloudfrontKeyId must be given together/],
    [
      { AWS_S3_ACCESS_KEY_ID: "AKIDS3", AWS_SECRET_ACCESS_KEY: undefined },
      /accessKey and secretKey must be given together.*accessKey comes from AWS_S3_ACCESS_KEY_ID/,
    ],
    [
      { AWS_S3_PUBLIC_URL: "https://cdn.example.com/", AWS_QUERYSTRING_AUTH: "true" },
      /publicUrl builds unsigned URLs.*publicUrl comes from AWS_S3_PUBLIC_URL, querystringAuth comes from AWS_QUERYSTRING_AUTH/,
    ],
  ])("%j", (env, message) => {
    const error = configError(env as Env);
    expect(error.message).toMatch(message);
    expect(error.code).toBe("STORAGE_CONFIG");
  });

  it("fails at storagesFromEnv(), before any storage is built", () => {
    expect(() => storagesFromEnv({ ...s3Env, AWS_S3_ADDRESSING_STYLE: "dns" })).toThrow(StorageConfigError);
    expect(() => storagesFromEnv({ AWS_S3_BUCKET_NAME: "dss", AWS_S3_MAX_CONCURRENCY: "0" })).toThrow(
      /maxConcurrency comes from AWS_S3_MAX_CONCURRENCY/,
    );
  });
});

describe("storagesFromEnv: the private storage", () => {
  const publicEnv: Env = {
    AWS_DEFAULT_ACL: "public-read",
    AWS_S3_CUSTOM_DOMAIN: "cdn.example.com",
    AWS_S3_URL_PROTOCOL: "http:",
    AWS_QUERYSTRING_AUTH: "false",
    AWS_S3_BUCKET_AUTH: "false",
    AWS_S3_OBJECT_PARAMETERS:
      '{"ACL": "public-read", "GrantRead": "uri=\\"http://acs.amazonaws.com/groups/global/AllUsers\\"", "CacheControl": "max-age=60"}',
    AWS_S3_MAX_AGE_SECONDS: "600",
  };

  it("ignores every setting that would make it public", () => {
    const storage = s3(publicEnv, "private");
    expect(storage.settings).toMatchObject({
      defaultAcl: undefined,
      customDomain: undefined,
      urlProtocol: "https:",
      publicUrl: undefined,
      querystringAuth: true,
      objectParameters: { CacheControl: "max-age=60" },
    });
    const params = storage.getObjectParameters("a.pdf");
    expect(params.ACL).toBeUndefined();
    expect(params.GrantRead).toBeUndefined();
    expect(settings({ AWS_S3_PUBLIC_URL: "https://cdn.example.com/media/" }, "private").publicUrl).toBeUndefined();
    // The public storages keep them.
    expect(settings(publicEnv, "default")).toMatchObject({
      defaultAcl: "public-read",
      customDomain: "cdn.example.com",
    });
  });

  it("marks Cache-Control private when AWS_S3_MAX_AGE_SECONDS is set", () => {
    expect(s3({ AWS_S3_MAX_AGE_SECONDS: "600" }, "private").getObjectParameters("a.pdf").CacheControl).toBe(
      "private, max-age=600",
    );
    expect(s3({ AWS_S3_MAX_AGE_SECONDS: "600" }, "default").getObjectParameters("a.png").CacheControl).toBe(
      "public, max-age=600",
    );
  });

  it("uses the custom domain with CloudFront signed URLs when a CloudFront key is set", () => {
    const secret = settings({ ...cloudFront, AWS_S3_URL_PROTOCOL: "http:" }, "private");
    expect(secret).toMatchObject({
      customDomain: "cdn.example.com",
      urlProtocol: "http:",
      cloudfrontKeyId: "K2JCJMDEHXQW5F",
    });
    expect(typeof secret.cloudfrontSigner).toBe("function");
    // Unsigned storages serve the distribution's URLs unsigned, as django-storages does without querystring_auth.
    const media = settings(cloudFront, "default");
    expect(media).toMatchObject({ customDomain: "cdn.example.com", cloudfrontKey: undefined, querystringAuth: false });
    expect(media.cloudfrontSigner ?? null).toBeNull();
  });
});

describe("storagesFromEnv: the staticfiles storage", () => {
  it("is unsigned and overwrites by default, whatever the media settings say", () => {
    const env = { AWS_QUERYSTRING_AUTH: "true", AWS_S3_BUCKET_AUTH: "true", AWS_S3_FILE_OVERWRITE: "false" };
    expect(settings(env, "staticfiles")).toMatchObject({ querystringAuth: false, fileOverwrite: true });
  });

  it("honours django-s3-storage's _STATIC variables before the shared ones, and only there", () => {
    const env: Env = {
      AWS_S3_BUCKET_NAME_STATIC: "assets",
      AWS_S3_KEY_PREFIX: "uploads",
      AWS_S3_KEY_PREFIX_STATIC: "build",
      AWS_S3_BUCKET_AUTH_STATIC: "true",
      AWS_S3_MAX_AGE_SECONDS: "60",
      AWS_S3_MAX_AGE_SECONDS_STATIC: "31536000",
      AWS_S3_GZIP: "false",
      AWS_S3_GZIP_STATIC: "true",
      AWS_S3_ENDPOINT_URL_STATIC: "https://static.example.com",
    };
    expect(settings(env, "staticfiles")).toMatchObject({
      bucketName: "assets",
      keyPrefix: "build/",
      querystringAuth: true,
      querystringExpire: 604800,
      maxAgeSeconds: 31536000,
      gzip: true,
    });
    expect(settings(env, "default")).toMatchObject({
      bucketName: "bucket",
      keyPrefix: "uploads/",
      querystringAuth: false,
      maxAgeSeconds: 60,
      gzip: false,
    });
    expect(settings(env, "default").endpointUrl?.href).toBe("http://127.0.0.1:9/");
  });
});

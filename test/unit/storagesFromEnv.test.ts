import { FileSystemStorage, S3Storage, StorageConfigError, StorageRegistry, storagesFromEnv, usesS3 } from "../../src";

const build = (env: Record<string, string>) => {
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

  it("honours absolute MEDIA_URL values", () => {
    expect(build({ MEDIA_URL: "https://files.example.com/m" }).get("default").url("a.png")).toBe(
      "https://files.example.com/m/a.png",
    );
  });
});

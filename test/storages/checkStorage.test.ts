import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  type CORSRule,
  type LifecycleRule,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
} from "@aws-sdk/client-s3";
import { checkStorage, type StorageCheck } from "../../src/storage/checkStorage";
import { FileSystemStorage } from "../../src/storage/FileSystemStorage";
import { InMemoryStorage } from "../../src/storage/InMemoryStorage";
import type { S3Storage } from "../../src/storage/S3Storage";
import { runCli } from "../support/runCli";
import { createTestBucket, deleteTestBucket, makeS3Storage, rawClient, strict } from "../support/s3";

const statuses = (findings: StorageCheck[]) => Object.fromEntries(findings.map((f) => [f.check, f.status]));

describe("checkStorage on S3", () => {
  let bucket: string;
  const opened: S3Storage[] = [];
  const storage = (options: Parameters<typeof makeS3Storage>[2]) => {
    const made = makeS3Storage(bucket, "default", options);
    opened.push(made);
    return made;
  };
  /** Sets the bucket's CORS rules, or its lifecycle rules, behind the storage's back. */
  const raw = rawClient();
  const putCors = (CORSRules: CORSRule[]) =>
    raw.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules } }));
  const putLifecycle = (Rules: LifecycleRule[]) =>
    raw.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules } }));
  beforeAll(async () => {
    bucket = await createTestBucket("check");
  });
  afterAll(async () => {
    for (const s of opened) await s.close();
    await deleteTestBucket(bucket);
    raw.destroy();
  });

  it("finds the bucket and listing fine, and with write a probe that uploads, reads, loads by URL and goes", async () => {
    const s3 = storage({ location: "media", querystringAuth: false, ...(strict ? { defaultAcl: "public-read" } : {}) });
    expect(statuses(await checkStorage(s3))).toMatchObject({ bucket: "ok", list: "ok" });
    const findings = await checkStorage(s3, { write: true });
    expect(statuses(findings)).toMatchObject({ write: "ok", read: "ok", url: "ok", delete: "ok" });
    expect((await s3.listAll()).map((o) => o.name)).toEqual([]);
  });

  it("says whether private objects load without a signature: anyone can on s3rver, no one on a strict server", async () => {
    const findings = await checkStorage(storage({ location: "private" }), { write: true });
    expect(statuses(findings)).toMatchObject({ url: "ok", private: strict ? "ok" : "failed" });
    const privateFinding = findings.find((f) => f.check === "private") as StorageCheck;
    expect(privateFinding.detail).toMatch(strict ? /refused \(40[13]\)/ : /loads without a signature/);
  });

  (strict ? it : it.skip)(
    "fails a public storage whose objects browsers cannot read, and says how to open them (strict server: s3rver checks no permissions)",
    async () => {
      const findings = await checkStorage(storage({ location: "closed", querystringAuth: false }), { write: true });
      const url = findings.find((f) => f.check === "url") as StorageCheck;
      expect(url.status).toBe("failed");
      expect(url.detail).toMatch(/answered 403, so browsers cannot load public files/);
      expect(url.detail).toContain("bucket policy");
    },
  );

  it("reports a missing bucket, with the advice the storage gives, and checks nothing else", async () => {
    const missing = makeS3Storage(`${bucket}-missing`, "default", {});
    opened.push(missing);
    const findings = await checkStorage(missing, { write: true });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ check: "bucket", status: "failed" });
    expect(findings[0].detail).toContain("create the bucket");
  });

  it("with an origin, checks the bucket's CORS for direct uploads from it, and with write uploads a probe", async () => {
    const s3 = storage({ location: "cors" });
    const before = statuses(await checkStorage(s3, { origin: "https://app.example" }));
    expect(before).toMatchObject({ bucket: "ok", cors: "failed" });
    await putCors([{ AllowedOrigins: ["https://app.example"], AllowedMethods: ["PUT"], AllowedHeaders: ["*"] }]);
    const findings = await checkStorage(s3, { origin: "https://app.example", write: true });
    expect(statuses(findings)).toMatchObject({
      cors: "ok",
      "direct upload": "ok",
      write: "ok",
      "cors etag": "warning",
    });
    await putCors([
      {
        AllowedOrigins: ["https://app.example"],
        AllowedMethods: ["PUT"],
        AllowedHeaders: ["*"],
        ExposeHeaders: ["ETag"],
      },
    ]);
    const withEtag = statuses(await checkStorage(s3, { origin: "https://app.example", write: true }));
    expect(withEtag).toMatchObject({ cors: "ok", "direct upload": "ok" });
    expect(withEtag["cors etag"]).toBeUndefined();
    const other = await checkStorage(s3, { origin: "https://evil.example" });
    const cors = other.find((f) => f.check === "cors") as StorageCheck;
    expect(cors.status).toBe("failed");
    expect(cors.detail).toContain('"AllowedOrigins":["https://evil.example"]');
    expect((await s3.listAll()).map((o) => o.name)).toEqual([]); // the probes are gone
    // a rule that lists the probe's headers but not Content-Disposition, which svg and html uploads carry
    await putCors([
      {
        AllowedOrigins: ["https://app.example"],
        AllowedMethods: ["PUT"],
        AllowedHeaders: ["content-type", "if-none-match"],
      },
    ]);
    expect(statuses(await checkStorage(s3, { origin: "https://app.example" }))).toMatchObject({ cors: "failed" });
  });

  it("with pendingUploadTag, looks for the lifecycle rule that expires unattached uploads", async () => {
    const s3 = storage({ location: "lifecycle", pendingUploadTag: "upload=pending" });
    const before = (await checkStorage(s3)).find((f) => f.check === "lifecycle") as StorageCheck;
    // s3rver has no lifecycle configuration at all: it cannot tell
    expect(before.status).toBe(strict ? "warning" : "unknown");
    if (!strict) return;
    expect(before.detail).toContain('"Filter":{"Tag":{"Key":"upload","Value":"pending"}}');
    await putLifecycle([
      {
        ID: "expire-unattached-uploads",
        Status: "Enabled",
        Filter: { Tag: { Key: "upload", Value: "pending" } },
        Expiration: { Days: 2 },
      },
    ]);
    expect(statuses(await checkStorage(s3))).toMatchObject({ lifecycle: "ok" });
    // a rule that also wants another tag never matches the uploads: not counted
    await putLifecycle([
      {
        ID: "never-matches",
        Status: "Enabled",
        Filter: {
          And: {
            Tags: [
              { Key: "upload", Value: "pending" },
              { Key: "env", Value: "never-set" },
            ],
          },
        },
        Expiration: { Days: 2 },
      },
    ]);
    expect(statuses(await checkStorage(s3))).toMatchObject({ lifecycle: "warning" });
  });

  it("checks a configured ACL against the bucket's Object Ownership, or says it cannot tell", async () => {
    const findings = await checkStorage(
      storage({ location: "acl", defaultAcl: "public-read", querystringAuth: false }),
    );
    const acl = findings.find((f) => f.check === "acl") as StorageCheck;
    // neither s3rver nor Ceph disables ACLs: the check passes, or cannot read the setting
    expect(["ok", "unknown"]).toContain(acl.status);
    expect(acl.detail).toMatch(/accept|public-read/);
  });
});

describe("checkStorage on disk and in memory", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), "check-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("checks the directory, says how URLs are served, and probes with write", async () => {
    const later = new FileSystemStorage({ location: path.join(root, "not-yet") });
    expect(statuses(await checkStorage(later))).toEqual({ location: "warning", urls: "warning" });
    const signed = new FileSystemStorage({
      location: root,
      baseUrl: "/private/",
      querystringAuth: true,
      signingSecret: "s".repeat(48),
    });
    expect(statuses(await checkStorage(signed, { write: true }))).toEqual({
      location: "ok",
      urls: "ok",
      write: "ok",
      read: "ok",
      delete: "ok",
    });
  });

  it("with an origin, says whether disk upload URLs go to the site itself", async () => {
    const options = { location: root, signingSecret: "s".repeat(48) };
    const same = await checkStorage(new FileSystemStorage({ ...options, baseUrl: "/media/" }), {
      origin: "https://app.example",
    });
    expect(statuses(same)).toMatchObject({ cors: "ok" });
    const elsewhere = await checkStorage(
      new FileSystemStorage({ ...options, baseUrl: "https://files.example/media/" }),
      { origin: "https://app.example" },
    );
    expect(elsewhere.find((f) => f.check === "cors")).toMatchObject({
      status: "warning",
      detail: expect.stringContaining("https://files.example, another origin"),
    });
    const unsigned = await checkStorage(new FileSystemStorage({ location: root }), { origin: "https://app.example" });
    expect(unsigned.find((f) => f.check === "direct upload")).toMatchObject({
      status: "failed",
      detail: expect.stringContaining("signingSecret"),
    });
  });

  it("warns that memory keeps nothing", async () => {
    expect(await checkStorage(new InMemoryStorage())).toEqual([
      { check: "memory", status: "warning", detail: expect.stringContaining("lost when it exits") },
    ]);
  });
});

describe("typeorm-storages check", () => {
  const run = (args: string[], env: Record<string, string>) => runCli(["check", ...args], { env, cwd: tmpdir() });

  it("checks every storage from the environment, and exits 1 when one fails, 2 for an unknown one", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "check-cli-"));
    try {
      const env = {
        MEDIA_ROOT: path.join(root, "media"),
        PRIVATE_MEDIA_ROOT: path.join(root, "private"),
        STATIC_ROOT: path.join(root, "static"),
        STORAGES_SIGNING_SECRET: "x".repeat(48),
      };
      const ok = await run(["--write"], env);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain('storage "default" (filesystem)\n');
      expect(ok.stdout).toContain('storage "private" (filesystem)\n');
      expect(ok.stdout).toMatch(/ {2}ok {6}write: a probe object was written/);
      const { writeFile } = await import("node:fs/promises");
      await writeFile(path.join(root, "blocked"), "a file where a directory should be");
      const failed = await run(["default"], { ...env, MEDIA_ROOT: path.join(root, "blocked") });
      expect(failed.code).toBe(1);
      expect(failed.stdout).toContain("FAILED  location:");
      expect((await run(["nope"], env)).code).toBe(2);
      const origin = await run(["default", "--origin", "http://127.0.0.1:3000"], env);
      expect(origin.code).toBe(0);
      expect(origin.stdout).toMatch(/ok {6}cors: upload URLs go to \/media\/ on the site itself/);
      const bad = await run(["--origin", "example.com/path"], env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--origin takes an origin like https://example.com");
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("at Ctrl-C finishes the storage being checked, checks no other, and exits with 130", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "check-cli-"));
    try {
      const config = path.join(root, "storages.js");
      const src = JSON.stringify(path.resolve(__dirname, "..", "..", "src", "index.ts"));
      await writeFile(
        config,
        `const { InMemoryStorage } = require(${src});\nexports.storages = { first: new InMemoryStorage(), second: new InMemoryStorage() };\n`,
      );
      const { storages } = require(config) as { storages: { first: InMemoryStorage; second: InMemoryStorage } };
      const controller = new AbortController();
      const save = storages.first.save.bind(storages.first);
      jest.spyOn(storages.first, "save").mockImplementation((...args) => {
        controller.abort(); // Ctrl-C during the first storage's probe
        return save(...args);
      });
      const second = jest.spyOn(storages.second, "save");
      const result = await runCli(["check", "--write", "--config", config], { cwd: root, signal: controller.signal });
      expect(result.code).toBe(130);
      expect(result.stdout).toContain('storage "first" (memory)\n');
      expect(result.stdout).toMatch(/ok {6}write: a probe object was written/);
      expect(result.stdout).not.toContain('storage "second"');
      expect(result.stdout).toContain("Interrupted: storages not reported above were not checked.\n");
      expect(second).not.toHaveBeenCalled();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

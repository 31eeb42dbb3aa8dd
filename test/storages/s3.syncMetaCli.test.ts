import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { HeadObjectCommand, PutObjectCommand, type PutObjectCommandInput } from "@aws-sdk/client-s3";
import { createTestBucket, deleteTestBucket, rawClient, s3Env } from "../support/s3";

const root = path.join(__dirname, "..", "..");
const mainJs = path.join(root, "dist", "cli", "main.js");
const distIndex = path.join(root, "dist", "index.js");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the compiled CLI as a user would (`node dist/cli/main.js`), with only the given environment. */
function cli(args: string[], env: Record<string, string>, cwd = root): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [mainJs, ...args],
      { cwd, env: { PATH: process.env.PATH ?? "", ...env } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("typeorm-storages sync-meta (the compiled CLI)", () => {
  let bucket: string;
  let dir: string;
  let s3: Record<string, string>;
  const raw = rawClient();

  beforeAll(async () => {
    // The CLI under test is the build output, shebang and all.
    await promisify(execFile)(
      process.execPath,
      [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
      {
        cwd: root,
      },
    );
    bucket = await createTestBucket("sync-meta-cli");
    dir = mkdtempSync(path.join(tmpdir(), "sync-meta-cli-"));
    const { endpoint, accessKey, secretKey } = s3Env();
    s3 = {
      USE_S3: "true",
      AWS_STORAGE_BUCKET_NAME: bucket,
      AWS_S3_ENDPOINT_URL: endpoint,
      AWS_S3_ACCESS_KEY_ID: accessKey,
      AWS_S3_SECRET_ACCESS_KEY: secretKey,
      AWS_S3_REGION_NAME: "us-east-1",
      AWS_S3_ADDRESSING_STYLE: "path",
    };
    const connection = JSON.stringify({
      bucketName: bucket,
      endpointUrl: endpoint,
      accessKey,
      secretKey,
      regionName: "us-east-1",
      addressingStyle: "path",
    });
    writeFileSync(
      path.join(dir, "storages.js"),
      `const { S3Storage, FileSystemStorage } = require(${JSON.stringify(distIndex)});
const connection = ${connection};
exports.storages = {
  media: () => new S3Storage({ ...connection, location: "cfg", querystringAuth: false, maxAgeSeconds: 120 }),
  // Raw non-ASCII in a header fails one object; no SDK retries, to keep the test quick.
  labelled: () =>
    new S3Storage({
      ...connection,
      location: "labels",
      metadata: { label: (name) => (name === "bad.txt" ? "\\u65e5\\u672c" : "fine") },
      clientConfig: { maxAttempts: 1 },
    }),
  local: () => new FileSystemStorage({ location: ${JSON.stringify(path.join(dir, "files"))} }),
  // temporary credentials (renewed for every request) whose renewal is refused after a few objects
  expiring: () => {
    let calls = 0;
    const { accessKey, secretKey, ...rest } = connection;
    return new S3Storage({
      ...rest,
      location: "expiring",
      maxAgeSeconds: 60,
      clientConfig: {
        credentials: async () => {
          if (++calls > 12) throw new Error("the identity service refused to renew the token");
          return { accessKeyId: accessKey, secretAccessKey: secretKey, expiration: new Date(Date.now() + 1000) };
        },
      },
    });
  },
};
`,
    );
    writeFileSync(
      path.join(dir, "storages.mjs"),
      `import library from ${JSON.stringify(distIndex)};
const connection = ${connection};
export default { media: new library.S3Storage({ ...connection, location: "cfg", contentLanguage: "fr" }) };
`,
    );
  }, 60_000);

  afterAll(async () => {
    await deleteTestBucket(bucket);
    rmSync(dir, { recursive: true, force: true });
    raw.destroy();
  });

  const head = (key: string) => raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const put = (key: string, extra: Partial<PutObjectCommandInput> = {}) =>
    raw.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key, ContentType: "text/plain", ...extra }));

  it("prints its usage with --help, and refuses unknown options and commands with exit code 2", async () => {
    const help = await cli(["sync-meta", "--help"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: typeorm-storages sync-meta <storage> [prefix] [options]");
    expect(help.stdout).toContain("--dry-run");
    const top = await cli(["--help"], {});
    expect([top.code, top.stdout]).toEqual([0, expect.stringContaining("sync-meta <storage> [prefix]")]);

    const bad = await cli(["sync-meta", "default", "--frobnicate"], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--frobnicate'");
    const unknown = await cli(["collect"], {});
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('Unknown command "collect"')]);
    const concurrency = await cli(["sync-meta", "default", "--concurrency", "0"], s3);
    expect([concurrency.code, concurrency.stderr]).toEqual([2, expect.stringContaining("--concurrency must be")]);
  });

  it("reads the storages from the environment: a dry run reports, a real run rewrites, a rerun skips", async () => {
    await put("media/a.txt", { CacheControl: "no-cache", Metadata: { stale: "1" } });
    await put("media/b.txt", { CacheControl: "no-cache" });

    const dry = await cli(["sync-meta", "default", "--dry-run"], s3);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      "would update a.txt\n    Cache-Control: no-cache -> (none)\n    x-amz-meta-stale: 1 -> (none)\n",
    );
    expect(dry.stdout).toContain(
      `sync-meta storage "default" (bucket "${bucket}", prefix "media/"): dry run, nothing was written`,
    );
    expect(dry.stdout).toMatch(/examined +2\n +to update +2\n +unchanged +0\n/);
    expect((await head("media/a.txt")).CacheControl).toBe("no-cache");

    const run = await cli(["sync-meta", "default"], s3);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/examined +2\n +updated +2\n/);
    expect(run.stdout).not.toContain("would update");
    const a = await head("media/a.txt");
    expect([a.CacheControl, a.Metadata, a.ContentType]).toEqual([undefined, {}, "text/plain"]);

    const again = await cli(["sync-meta", "default", "--quiet"], s3);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/updated +0\n +unchanged +2\n/);
  });

  it("reads the storages from a CommonJS config module, with a prefix and a concurrency", async () => {
    await put("cfg/x/1.txt");
    await put("cfg/y/1.txt");
    const run = await cli(
      ["sync-meta", "media", "x/", "--config", path.join(dir, "storages.js"), "--concurrency", "4"],
      s3,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/examined +1\n +updated +1\n/);
    expect((await head("cfg/x/1.txt")).CacheControl).toBe("public, max-age=120");
    expect((await head("cfg/y/1.txt")).CacheControl).toBeUndefined();
  });

  it("reads the default export of an ES module config, with a relative path", async () => {
    await put("cfg/esm.txt");
    const run = await cli(["sync-meta", "media", "esm", "--config", "storages.mjs"], {}, dir);
    expect(run.code).toBe(0);
    expect((await head("cfg/esm.txt")).ContentLanguage).toBe("fr");
  });

  it("exits with 1 and lists the failed objects with their reasons", async () => {
    await put("labels/ok.txt");
    await put("labels/bad.txt");
    const run = await cli(["sync-meta", "labelled", "--config", path.join(dir, "storages.js")], {});
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/updated +1\n/);
    expect(run.stdout).toMatch(/failed +1\n +bad\.txt: TypeError: Invalid character in header content/);
  });

  it("stops with exit code 2 when the credentials cannot be renewed mid-run, listing the objects not attempted", async () => {
    const names = ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"];
    await Promise.all(names.map((name) => put(`expiring/${name}`)));
    const run = await cli(
      ["sync-meta", "expiring", "--config", path.join(dir, "storages.js"), "--concurrency", "1"],
      {},
    );
    expect(run.code).toBe(2);
    const examined = Number(/examined +(\d+)\n/.exec(run.stdout)?.[1]);
    const updated = Number(/updated +(\d+)\n/.exec(run.stdout)?.[1]);
    const left = /not attempted (\d+)\n((?: {4}.+\n)*)/.exec(run.stdout);
    expect(updated).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/failed +1\n +[a-e]\.txt: the credential provider failed/);
    expect(Number(left?.[1])).toBeGreaterThan(0);
    expect(examined + Number(left?.[1])).toBe(names.length);
    expect(left?.[2].trim().split(/\s+/)).toEqual(names.slice(examined));
    expect(run.stdout).toContain(
      `Stopped: sync-meta stopped after ${examined} ${examined === 1 ? "object" : "objects"} of bucket ` +
        `"${bucket}": the credential provider failed (Error: the identity service refused to renew the token)`,
    );
    expect(run.stdout).toContain("then run sync-meta again");
  });

  it("refuses, with exit code 2, a storage that is not on S3, an unknown one, and a bucket it cannot list", async () => {
    const local = await cli(["sync-meta", "local", "--config", path.join(dir, "storages.js")], {});
    expect(local.code).toBe(2);
    expect(local.stderr).toContain(
      'Storage "local" is a filesystem storage, but sync-meta rewrites the headers of S3 objects.',
    );

    const disk = await cli(["sync-meta", "default"], {}, dir);
    expect(disk.code).toBe(2);
    expect(disk.stderr).toContain("set USE_S3=true and AWS_STORAGE_BUCKET_NAME");

    const unknown = await cli(["sync-meta", "nope", "--config", path.join(dir, "storages.js")], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      'No storage named "nope" is configured. Configured storages: "media", "labelled", "local", "expiring".',
    );

    const missingConfig = await cli(["sync-meta", "media", "--config", "nowhere.js"], {}, dir);
    expect([missingConfig.code, missingConfig.stderr]).toEqual([
      2,
      expect.stringContaining("nowhere.js does not exist"),
    ]);

    const noBucket = await cli(["sync-meta", "default"], { ...s3, AWS_STORAGE_BUCKET_NAME: `${bucket}-gone` });
    expect(noBucket.code).toBe(2);
    expect(noBucket.stderr).toContain("the bucket does not exist");
    expect(noBucket.stderr).toContain("caused by NoSuchBucket");
  });
});

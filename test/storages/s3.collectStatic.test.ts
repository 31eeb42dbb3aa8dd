import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { StorageConfigError } from "../../src/errors/StorageConfigError";
import { collectStatic } from "../../src/storage/collectStatic";
import type { S3Storage } from "../../src/storage/S3Storage";
import { StaticManifest } from "../../src/storage/StaticManifest";
import { runCli } from "../support/runCli";
import {
  countRequests,
  createTestBucket,
  deleteTestBucket,
  makeS3Storage,
  onHarnessS3rver,
  s3Env,
} from "../support/s3";

const MiB = 1024 * 1024;

describe("collectStatic into an S3 storage", () => {
  let bucket: string;
  let source: string;
  const storages: S3Storage[] = [];

  const storage = (options: Parameters<typeof makeS3Storage>[2]) => {
    const made = makeS3Storage(bucket, "required", options);
    storages.push(made);
    return made;
  };
  const put = async (name: string, content: string | Buffer, mtime?: Date) => {
    const file = path.join(source, ...name.split("/"));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    if (mtime) await utimes(file, mtime, mtime);
  };

  beforeAll(async () => {
    bucket = await createTestBucket("collectstatic");
  });
  beforeEach(async () => {
    source = await mkdtemp(path.join(tmpdir(), "collectstatic-s3-"));
    await put("css/site.css", `body { color: red }\n${"p { margin: 0 }\n".repeat(50)}`);
    await put("js/app.js", "console.log(1)");
    await put("img/logo.png", Buffer.alloc(300, 7));
  });
  afterEach(async () => {
    await rm(source, { recursive: true, force: true });
  });
  afterAll(async () => {
    for (const s of storages) await s.close();
    await deleteTestBucket(bucket);
  });

  it("compares by the ETag of one listing: a second run sends one request, however new the files look", async () => {
    const s3 = storage({ location: "static-md5", maxAgeSeconds: 600, querystringAuth: false });
    expect(await collectStatic(s3, [source])).toMatchObject({ copied: 3, failed: 0 });
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: bucket, Key: "static-md5/css/site.css" }));
    expect(head).toMatchObject({ ContentType: "text/css", CacheControl: "public, max-age=600" });

    const future = new Date(Date.now() + 3600_000); // a fresh checkout: every file newer than its copy
    for (const name of ["css/site.css", "js/app.js"]) {
      const file = path.join(source, ...name.split("/"));
      await utimes(file, future, future);
    }
    await put("img/logo.png", Buffer.alloc(300, 8), new Date("2001-01-01T00:00:00Z")); // changed, same size, old
    const requests = countRequests(s3.client);
    const summary = await collectStatic(s3, [source]);
    expect(summary).toMatchObject({ copied: 1, unmodified: 2, failed: 0 });
    expect(requests.names).toEqual(["ListObjectsV2Command", "PutObjectCommand"]);
    expect(await s3.read("img/logo.png")).toEqual(Buffer.alloc(300, 8));
  });

  it("copies a file of another size with an old time (npm, tar, cp -p), unless the storage may have gzipped it", async () => {
    const s3 = storage({
      location: "static-size",
      querystringAuth: false,
      gzip: true,
      gzipContentTypes: ["text/css"],
    });
    const npm = new Date("1985-10-26T08:15:00Z"); // every file's time in an npm tarball
    await put("js/app.js", "console.log('v1.0.0')", npm);
    expect(await collectStatic(s3, [source])).toMatchObject({ copied: 3, failed: 0 });
    expect((await s3.listAll()).find((o) => o.name === "js/app.js")?.md5).not.toBeNull();
    expect([s3.mayCompress("js/app.js"), s3.mayCompress("css/site.css")]).toEqual([false, true]);

    await put("js/app.js", "console.log('v1.0.1 with a security fix')", npm);
    // the stylesheet's copy is gzipped, so of another size: compared by time, and not newer
    await put("css/site.css", `body { color: red }\n${"p { margin: 0 }\n".repeat(50)}`, npm);
    expect(await collectStatic(s3, [source])).toMatchObject({ copied: 1, unmodified: 2 });
    expect((await s3.read("js/app.js")).toString()).toBe("console.log('v1.0.1 with a security fix')");
  });

  it("stores hashed copies with a year's immutable Cache-Control and the manifest; a second run only lists", async () => {
    const s3 = storage({
      location: "static-manifest",
      maxAgeSeconds: 600,
      maxAgeSecondsCached: 31536000,
      querystringAuth: false,
      gzip: true,
      gzipContentTypes: ["text/css", "application/json"],
    });
    await put("css/site.css", `body { background: url(../img/logo.png) }\n${"p { margin: 0 }\n".repeat(50)}`);
    const summary = await collectStatic(s3, [source], { manifest: true });
    expect(summary).toMatchObject({ copied: 3, postProcessed: 3, failed: 0, manifestWritten: true });
    const manifest = await StaticManifest.load(s3);
    const hashedCss = manifest.hashedName("css/site.css");
    expect(hashedCss).toMatch(/^css\/site\.[0-9a-f]{12}\.css$/);
    expect((await s3.read(hashedCss)).toString()).toContain(`url("../${manifest.hashedName("img/logo.png")}")`);
    expect(manifest.url("img/logo.png")).toBe(s3.url(manifest.hashedName("img/logo.png")));
    const head = (key: string) =>
      s3.client.send(new HeadObjectCommand({ Bucket: bucket, Key: `static-manifest/${key}` }));
    expect(await head(hashedCss)).toMatchObject({
      CacheControl: "public, max-age=31536000, immutable",
      ContentEncoding: "gzip",
      ContentType: "text/css",
    });
    expect(await head("css/site.css")).toMatchObject({ CacheControl: "public, max-age=600" });
    expect(await head("staticfiles.json")).toMatchObject({
      CacheControl: "public, max-age=600",
      ContentType: "application/json",
      ContentEncoding: "gzip",
    });

    const requests = countRequests(s3.client);
    expect(await collectStatic(s3, [source], { manifest: true })).toMatchObject({
      copied: 0,
      postProcessed: 0,
      manifestWritten: false,
    });
    // gzipped objects have no usable ETag: the stylesheet is compared by time, its copy by name, and
    // the manifest is read to compare
    expect(requests.names).toEqual(["ListObjectsV2Command", "GetObjectCommand"]);
  });

  it("falls back to modification times for gzipped and multipart objects, whose ETag is not the file's MD5", async () => {
    const s3 = storage({ location: "static-gz", gzip: true, multipartThreshold: 5 * MiB, multipartChunksize: 5 * MiB });
    await put("big.bin", Buffer.alloc(6 * MiB, 1));
    expect(await collectStatic(s3, [source])).toMatchObject({ copied: 4, failed: 0 });
    const listed = new Map((await s3.listAll()).map((o) => [o.name, o]));
    expect(listed.get("css/site.css")?.storedSize).toBeLessThan(800); // stored gzipped
    // S3 and Ceph give a multipart object an ETag that is not an MD5 ("<hash>-<parts>"); s3rver gives
    // it the MD5 of the whole object, which the comparison may use as well
    const big = createHash("md5")
      .update(Buffer.alloc(6 * MiB, 1))
      .digest("hex");
    expect(listed.get("big.bin")?.md5).toBe(onHarnessS3rver ? big : null);
    const requests = countRequests(s3.client);
    expect(await collectStatic(s3, [source])).toMatchObject({ copied: 0, unmodified: 4 });
    expect(requests.names).toEqual(["ListObjectsV2Command"]);
    const later = new Date(Date.now() + 3600_000);
    await put("css/site.css", "body { color: green }", later);
    expect(await collectStatic(s3, [source])).toMatchObject({ copied: 1, unmodified: 3 });
    expect((await s3.read("css/site.css")).toString()).toBe("body { color: green }");
  });

  it("throws StorageConfigError for a bucket that does not exist, and the CLI exits with 2, as sync-meta", async () => {
    const gone = storage({ bucketName: `${bucket}-gone` });
    const error = await collectStatic(gone, [source]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageConfigError);
    expect(error).toMatchObject({ message: expect.stringContaining(`The bucket "${bucket}-gone" does not exist`) });
    expect((error as Error).cause).toMatchObject({ name: "NoSuchBucket" });

    const { endpoint, accessKey, secretKey } = s3Env();
    const env = {
      USE_S3: "true",
      AWS_STORAGE_BUCKET_NAME: `${bucket}-gone`,
      AWS_S3_ENDPOINT_URL: endpoint,
      AWS_S3_ACCESS_KEY_ID: accessKey,
      AWS_S3_SECRET_ACCESS_KEY: secretKey,
      AWS_S3_REGION_NAME: "us-east-1",
      AWS_S3_ADDRESSING_STYLE: "path",
    };
    const run = await runCli(["collectstatic", source], { env, cwd: source });
    expect([run.code, run.stdout]).toEqual([2, ""]);
    expect(run.stderr).toContain("does not exist");
    expect(run.stderr).toContain("caused by NoSuchBucket");
  });

  it("clears the storage's location only, and lists past one page of objects", async () => {
    const s3 = storage({ location: "static-clear" });
    const neighbour = storage({ location: "media-next-door" });
    await neighbour.save("keep.txt", "keep");
    for (let batch = 0; batch < 1005; batch += 67)
      await Promise.all(
        Array.from({ length: 67 }, (_, i) => s3.save(`old/${batch + i}.txt`, "x", { overwrite: true })),
      );
    const summary = await collectStatic(s3, [source], { clear: true, concurrency: 32 });
    expect(summary).toMatchObject({ deleted: 1005, copied: 3, failed: 0 });
    expect((await s3.listAll()).map((o) => o.name)).toEqual(["css/site.css", "img/logo.png", "js/app.js"]);
    expect(await neighbour.exists("keep.txt")).toBe(true);
    // about 2,000 requests to s3rver (~3 ms of its CPU per PUT): past 30 s on a loaded two-core machine
  }, 120_000);
});

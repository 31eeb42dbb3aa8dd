import { basename } from "node:path";
import {
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  PutObjectTaggingCommand,
} from "@aws-sdk/client-s3";
import type { S3ObjectParameters, S3StorageOptions } from "../../src/drivers/s3/S3StorageOptions";
import { StorageConfigError } from "../../src/errors/StorageConfigError";
import { InMemoryStorage } from "../../src/storage/InMemoryStorage";
import { S3Storage } from "../../src/storage/S3Storage";
import {
  MAX_COPY_OBJECT_SIZE,
  type SyncMetadataObjectResult,
  type SyncMetadataProgress,
  syncMetadata,
} from "../../src/storage/syncMetadata";
import {
  captureRequests,
  countRequests,
  createTestBucket,
  deleteTestBucket,
  describeStrict,
  makeS3Storage,
  rawClient,
  s3Env,
  strict,
} from "../support/s3";

describe("syncMetadata (sync-meta)", () => {
  let bucket: string;
  const raw = rawClient();
  const opened: S3Storage[] = [];

  beforeAll(async () => {
    bucket = await createTestBucket("sync-meta");
  });

  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
    await deleteTestBucket(bucket);
    raw.destroy();
  });

  function storage(options: Partial<S3StorageOptions>): S3Storage {
    const s = makeS3Storage(bucket, "default", options);
    opened.push(s);
    return s;
  }

  const head = (key: string) => raw.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const put = (key: string, body: string, extra: Partial<PutObjectCommandInput> = {}) =>
    raw.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "text/plain", ...extra }));

  it("rewrites Cache-Control, Content-Disposition, Content-Language and metadata to the current settings", async () => {
    const old = storage({ location: "headers" });
    await old.save("docs/report.pdf", Buffer.from("%PDF-1.7"));
    await old.save("docs/notes.txt", "notes");
    const current = storage({
      location: "headers",
      querystringAuth: false,
      maxAgeSeconds: 3600,
      contentDisposition: (name) => `attachment; filename="${basename(name)}"`,
      contentLanguage: "de",
      metadata: { owner: (name) => name.split("/")[0], source: "sync" },
    });

    const summary = await syncMetadata(current);

    expect(summary).toEqual({
      dryRun: false,
      bucket,
      prefix: "headers/",
      examined: 2,
      updated: 2,
      unchanged: 0,
      missing: 0,
      failed: 0,
      failures: [],
      aborted: false,
      stopped: null,
      notAttempted: [],
    });
    const report = await head("headers/docs/report.pdf");
    expect(report.CacheControl).toBe("public, max-age=3600");
    expect(report.ContentDisposition).toBe('attachment; filename="report.pdf"');
    expect(report.ContentLanguage).toBe("de");
    expect(report.Metadata).toEqual({ owner: "docs", source: "sync" });
    expect(report.ContentType).toBe("application/pdf");
    expect((await head("headers/docs/notes.txt")).ContentDisposition).toBe('attachment; filename="notes.txt"');
    expect((await current.read("docs/report.pdf")).toString()).toBe("%PDF-1.7");
  });

  it("copies objects whose keys need percent-encoding in CopySource onto themselves", async () => {
    const keys = ["odd/a b+c.txt", "odd/ünï cödé/日本語.txt", "odd/x%2Fy (1).txt"];
    await Promise.all(keys.map((k) => put(k, k)));
    const current = storage({ location: "odd", maxAgeSeconds: 9 });

    expect(await syncMetadata(current)).toMatchObject({ examined: 3, updated: 3, failed: 0 });

    for (const key of keys) {
      expect((await head(key)).CacheControl).toBe("private, max-age=9");
      expect((await current.read(key.slice("odd/".length))).toString()).toBe(key);
    }
  });

  it("keeps each object's Content-Type, Content-Encoding and the original size of gzipped objects", async () => {
    const css = "body { color: red; margin: 0 auto; }\n".repeat(300);
    const old = storage({ location: "gzip", gzip: true });
    await old.save("site.css", css);
    await put("gzip/module.wasm", "\0asm", { ContentType: "application/wasm", ContentEncoding: "br" });
    const current = storage({ location: "gzip", gzip: true, maxAgeSeconds: 60, metadata: { build: "42" } });

    expect(await syncMetadata(current)).toMatchObject({ examined: 2, updated: 2, failed: 0 });

    const site = await head("gzip/site.css");
    expect(site.ContentType).toBe("text/css");
    expect(site.ContentEncoding).toBe("gzip");
    expect(site.CacheControl).toBe("private, max-age=60");
    // Ceph RGW stores metadata names with "-" for "_".
    expect(site.Metadata).toEqual(
      strict
        ? { build: "42", "uncompressed-size": String(css.length) }
        : { build: "42", uncompressed_size: String(css.length) },
    );
    expect(await current.size("site.css")).toBe(css.length);
    expect((await current.read("site.css")).toString()).toBe(css);
    const wasm = await head("gzip/module.wasm");
    expect([wasm.ContentType, wasm.ContentEncoding, wasm.Metadata]).toEqual([
      "application/wasm",
      "br",
      { build: "42" },
    ]);
  });

  it("keeps html and svg as attachments unless the storage allows them inline", async () => {
    const old = storage({ location: "unsafe" });
    await old.save("page.html", "<p>hi</p>");
    await put("unsafe/logo.svg", "<svg/>", { ContentType: "image/svg+xml" });
    await put("unsafe/named.html", "<p/>", {
      ContentType: "text/html",
      ContentDisposition: 'attachment; filename="x.html"',
    });
    await old.save("readme.txt", "text");
    const current = storage({ location: "unsafe", contentDisposition: "inline" });

    await syncMetadata(current);

    expect((await head("unsafe/page.html")).ContentDisposition).toBe("attachment");
    expect((await head("unsafe/logo.svg")).ContentDisposition).toBe("attachment");
    expect((await head("unsafe/named.html")).ContentDisposition).toBe('attachment; filename="x.html"');
    expect((await head("unsafe/readme.txt")).ContentDisposition).toBe("inline");

    const trusting = storage({ location: "unsafe", contentDisposition: "inline", allowUnsafeInline: true });
    expect(await syncMetadata(trusting, "page.html")).toMatchObject({ examined: 1, updated: 1 });
    expect((await head("unsafe/page.html")).ContentDisposition).toBe("inline");
  });

  it("applies getObjectParameters overridden in a subclass", async () => {
    class ImmutableImages extends S3Storage {
      override getObjectParameters(name: string): S3ObjectParameters {
        const params = super.getObjectParameters(name);
        return name.endsWith(".jpg") ? { ...params, CacheControl: "public, max-age=31536000, immutable" } : params;
      }
    }
    const { endpoint, accessKey, secretKey } = s3Env();
    const current = new ImmutableImages({
      bucketName: bucket,
      location: "sub",
      endpointUrl: endpoint,
      regionName: "us-east-1",
      addressingStyle: "path",
      accessKey,
      secretKey,
      querystringAuth: false,
      maxAgeSeconds: 5,
    });
    opened.push(current);
    await put("sub/photo.jpg", "jpg", { ContentType: "image/jpeg" });
    await put("sub/data.json", "{}", { ContentType: "application/json" });

    await syncMetadata(current);

    expect((await head("sub/photo.jpg")).CacheControl).toBe("public, max-age=31536000, immutable");
    expect((await head("sub/data.json")).CacheControl).toBe("public, max-age=5");
  });

  it("reports in a dry run what would change, and writes nothing", async () => {
    await put("dry/a.txt", "a", { CacheControl: "no-cache", Metadata: { stale: "1" } });
    const current = storage({ location: "dry", querystringAuth: false, maxAgeSeconds: 300 });
    const requests = countRequests(current.client);
    const results: SyncMetadataObjectResult[] = [];

    const summary = await syncMetadata(current, "", { dryRun: true, onObject: (r) => results.push(r) });

    expect(summary).toMatchObject({ dryRun: true, examined: 1, updated: 1, unchanged: 0 });
    expect(results).toEqual([
      {
        key: "a.txt",
        status: "updated",
        changes: [
          { header: "Cache-Control", from: "no-cache", to: "public, max-age=300" },
          { header: "x-amz-meta-stale", from: "1", to: null },
        ],
      },
    ]);
    expect(requests.names).toEqual(["ListObjectsV2Command", "HeadObjectCommand"]);
    const object = await head("dry/a.txt");
    expect([object.CacheControl, object.Metadata]).toEqual(["no-cache", { stale: "1" }]);
  });

  it("skips objects already up to date: one listing, one HEAD each, a copy only where needed", async () => {
    const current = storage({ location: "fresh", maxAgeSeconds: 60, metadata: { v: "1" } });
    await current.save("a.txt", "a");
    await current.save("b.txt", "b");
    await put("fresh/c.txt", "c");
    const requests = countRequests(current.client);

    expect(await syncMetadata(current)).toMatchObject({ examined: 3, updated: 1, unchanged: 2 });
    expect([...requests.names].sort()).toEqual([
      "CopyObjectCommand",
      "HeadObjectCommand",
      "HeadObjectCommand",
      "HeadObjectCommand",
      "ListObjectsV2Command",
    ]);

    requests.names.length = 0;
    expect(await syncMetadata(current)).toMatchObject({ examined: 3, updated: 0, unchanged: 3 });
    expect(requests.names).not.toContain("CopyObjectCommand");
  });

  it("touches only the objects under the prefix", async () => {
    await Promise.all(["scoped/a/1.txt", "scoped/a/2.txt", "scoped/b/1.txt", "scoped/ab.txt"].map((k) => put(k, k)));
    const current = storage({ location: "scoped", maxAgeSeconds: 60 });

    expect(await syncMetadata(current, "a/")).toMatchObject({ prefix: "scoped/a/", examined: 2, updated: 2 });

    expect((await head("scoped/a/1.txt")).CacheControl).toBe("private, max-age=60");
    expect((await head("scoped/a/2.txt")).CacheControl).toBe("private, max-age=60");
    expect((await head("scoped/b/1.txt")).CacheControl).toBeUndefined();
    expect((await head("scoped/ab.txt")).CacheControl).toBeUndefined();
  });

  it("leaves out the folder placeholders consoles make, as listAll does", async () => {
    await Promise.all(["folders/", "folders/a/", "folders/a/1.txt"].map((k) => put(k, "", { ContentLength: 0 })));
    const current = storage({ location: "folders", maxAgeSeconds: 60 });

    expect(await syncMetadata(current)).toMatchObject({ examined: 1, updated: 1, missing: 0, failed: 0 });

    expect((await head("folders/a/1.txt")).CacheControl).toBe("private, max-age=60");
    expect((await head("folders/a/")).CacheControl).toBeUndefined();
  });

  it("lists more than 1,000 objects once, page by page, with bounded concurrency", async () => {
    // Most are up to date already: s3rver is slow at copies, and HEAD is what this test counts.
    const keys = Array.from({ length: 1005 }, (_, i) => `many/${String(i).padStart(4, "0")}.txt`);
    const upToDate = { CacheControl: "private, max-age=60" };
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((k) => put(k, "x", k < "many/1000" ? upToDate : {})));
    }
    const current = storage({ location: "many", maxAgeSeconds: 60 });
    const requests = countRequests(current.client);
    let inFlight = 0;
    let maxInFlight = 0;
    current.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "ListObjectsV2Command") return next(args);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        try {
          return await next(args);
        } finally {
          inFlight--;
        }
      },
      { step: "initialize", name: "inFlight" },
    );
    const progress: SyncMetadataProgress[] = [];

    const summary = await syncMetadata(current, "", { concurrency: 8, onProgress: (p) => progress.push(p) });

    expect(summary).toMatchObject({ examined: 1005, updated: 5, unchanged: 1000, failed: 0 });
    expect(requests.names.filter((n) => n === "ListObjectsV2Command")).toHaveLength(2);
    expect(requests.names.filter((n) => n === "HeadObjectCommand")).toHaveLength(1005);
    expect(maxInFlight).toBeLessThanOrEqual(8);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(progress.find((p) => p.listed === 1000)?.listingComplete).toBe(false);
    expect(progress.at(-1)).toMatchObject({ listed: 1005, listingComplete: true, examined: 1005, updated: 5 });
    expect((await head("many/1004.txt")).CacheControl).toBe("private, max-age=60");
  }, 120_000);

  it("counts the objects it cannot rewrite, with the reason, and goes on with the others", async () => {
    await put("fail/ok.txt", "ok");
    await put("fail/bad.txt", "bad");
    // Node refuses raw non-ASCII in a header before sending: a real failure of one object only.
    const current = storage({
      location: "fail",
      metadata: { label: (name) => (name === "bad.txt" ? "日本語" : "fine") },
    });

    const summary = await syncMetadata(current);

    expect(summary).toMatchObject({ examined: 2, updated: 1, failed: 1 });
    expect(summary.failures).toEqual([
      {
        key: "bad.txt",
        reason: expect.stringContaining("Invalid character in header content"),
        error: expect.any(Error),
      },
    ]);
    expect((await head("fail/ok.txt")).Metadata).toEqual({ label: "fine" });
  });

  /** Five objects under `location`, of which sync-meta rewrites each (no Cache-Control yet). */
  async function fiveObjects(location: string): Promise<string[]> {
    const names = ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"];
    await Promise.all(names.map((name) => put(`${location}/${name}`, name)));
    return names;
  }

  /** From the `after`-th HEAD on, the client signs with what `credentials` gives: rotated or failing keys. */
  function swapCredentialsAfter(current: S3Storage, after: number, credentials: () => Promise<unknown>): void {
    let heads = 0;
    current.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "HeadObjectCommand" && ++heads === after)
          current.client.config.credentials = credentials as never;
        return next(args);
      },
      { step: "initialize", name: "swapCredentials" },
    );
  }

  it("stops at the first object whose credentials are refused mid-run, and lists the objects not attempted", async () => {
    await fiveObjects("revoked");
    const current = storage({ location: "revoked", maxAgeSeconds: 60 });
    const requests = countRequests(current.client);
    // the keys are revoked after two objects: S3 refuses the third HEAD with a bare 403, no error code
    swapCredentialsAfter(current, 3, async () => ({ accessKeyId: "REVOKED", secretAccessKey: "revoked" }));

    const summary = await syncMetadata(current, "", { concurrency: 1 });

    expect(summary).toMatchObject({ examined: 3, updated: 2, failed: 1, notAttempted: ["d.txt", "e.txt"] });
    expect(summary.stopped).toBeInstanceOf(StorageConfigError);
    const message = (summary.stopped as Error).message;
    expect(message).toContain("the credentials were refused (InvalidAccessKeyId");
    expect(message).toContain("AWS_S3_ACCESS_KEY_ID");
    expect(message).toContain("2 listed objects were not attempted");
    expect(message).toContain("run sync-meta again");
    expect(((summary.stopped as Error).cause as Error).name).toBe("InvalidAccessKeyId");
    expect(summary.failures).toEqual([
      { key: "c.txt", reason: expect.stringContaining("the credentials were refused"), error: expect.any(Error) },
    ]);
    expect(requests.names.filter((n) => n === "HeadObjectCommand")).toHaveLength(3);
  });

  it.each([
    [
      "the SDK's credential chain",
      Object.assign(new Error("Could not load credentials"), { name: "CredentialsProviderError" }),
    ],
    ["a provider of the app's own", new Error("token refresh failed: the identity service answered 401")],
  ])("stops when %s fails to refresh the credentials, naming the provider", async (_what, failure) => {
    await fiveObjects("refresh");
    const current = storage({ location: "refresh", maxAgeSeconds: 60 });
    swapCredentialsAfter(current, 2, async () => {
      throw failure;
    });

    const summary = await syncMetadata(current, "", { concurrency: 1 });

    expect(summary).toMatchObject({ examined: 2, updated: 1, failed: 1, notAttempted: ["c.txt", "d.txt", "e.txt"] });
    expect(summary.stopped).toBeInstanceOf(StorageConfigError);
    expect((summary.stopped as Error).message).toContain(
      `the credential provider failed (${failure.name}: ${failure.message})`,
    );
    expect((summary.stopped as Error).cause).toBe(failure);
  });

  it("goes on past an object S3 refuses alone, as an object's ACL does, when the bucket still answers", async () => {
    await fiveObjects("acl-denied");
    const current = storage({ location: "acl-denied", maxAgeSeconds: 60 });
    const stranger = makeS3Storage(bucket, "default", { accessKey: "NOBODY", secretKey: "nothing" });
    opened.push(stranger);
    // the HEAD of b.txt alone is refused as S3 refuses an object whose ACL denies it: a bare 403
    current.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: string };
        if (context.commandName === "HeadObjectCommand" && input.Key === "acl-denied/b.txt")
          await stranger.client.send(new HeadObjectCommand({ Bucket: bucket, Key: "acl-denied/b.txt" }));
        return next(args);
      },
      { step: "initialize", name: "refuseOne" },
    );

    const summary = await syncMetadata(current, "", { concurrency: 2 });

    expect(summary).toMatchObject({ examined: 5, updated: 4, failed: 1, stopped: null, notAttempted: [] });
    expect(summary.failures).toEqual([
      { key: "b.txt", reason: expect.stringContaining("s3:GetObject and s3:PutObject"), error: expect.any(Error) },
    ]);
  });

  it("copies objects over multipartCopyThreshold in parts, keeping bytes, type, metadata and tags (Ceph; s3rver has no UploadPartCopy)", async () => {
    const body = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4096) body.writeUInt32BE(i, i); // every part differs
    await raw.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "parts/movie.mp4",
        Body: body,
        ContentType: "video/mp4",
        Metadata: { owner: "media" },
        Tagging: "team=video&kind=talk",
      }),
    );
    const current = storage({
      location: "parts",
      maxAgeSeconds: 60,
      metadata: { owner: "media" },
      multipartChunksize: 5 * 1024 * 1024,
    });
    const requests = countRequests(current.client);

    const summary = await syncMetadata(current, "", { multipartCopyThreshold: 5 * 1024 * 1024 });

    const after = await head("parts/movie.mp4");
    if (strict) {
      expect(summary).toMatchObject({ examined: 1, updated: 1, failed: 0 });
      expect(requests.names.filter((n) => n === "UploadPartCopyCommand")).toHaveLength(3);
      expect(requests.names).not.toContain("CopyObjectCommand");
      expect(after).toMatchObject({
        CacheControl: "private, max-age=60",
        ContentType: "video/mp4",
        ContentLength: body.length,
        Metadata: { owner: "media" },
      });
      expect(after.ETag).toMatch(/-3"?$/);
      const tags = await raw.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: "parts/movie.mp4" }));
      expect(tags.TagSet?.sort((x, y) => String(x.Key).localeCompare(String(y.Key)))).toEqual([
        { Key: "kind", Value: "talk" },
        { Key: "team", Value: "video" },
      ]);
      expect((await current.read("movie.mp4")).equals(body)).toBe(true);
    } else {
      // s3rver answers UploadPartCopy NotImplemented: the upload is aborted and the object left alone
      expect(summary).toMatchObject({ examined: 1, updated: 0, failed: 1 });
      expect(summary.failures[0].reason).toContain("NotImplemented");
      expect(requests.names).toContain("AbortMultipartUploadCommand");
      expect(requests.names).not.toContain("CompleteMultipartUploadCommand");
      expect(after).toMatchObject({ ContentLength: body.length, ContentType: "video/mp4" });
      expect(after.CacheControl).toBeUndefined();
      expect((await current.read("movie.mp4")).equals(body)).toBe(true);
    }
  });

  it("refuses a multipartCopyThreshold under 5 MiB or over 5 GiB", async () => {
    const current = storage({ location: "parts" });
    for (const multipartCopyThreshold of [1024, MAX_COPY_OBJECT_SIZE + 1, 5 * 1024 * 1024 + 0.5]) {
      await expect(syncMetadata(current, "", { multipartCopyThreshold })).rejects.toThrow(
        "multipartCopyThreshold must be a whole number of bytes from 5 MiB to 5 GiB",
      );
    }
  });

  it("counts an object deleted after the listing as missing, not failed", async () => {
    await put("gone/a.txt", "a");
    const current = storage({ location: "gone", maxAgeSeconds: 60 });
    current.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "HeadObjectCommand") {
          await raw.send(new DeleteObjectCommand({ Bucket: bucket, Key: "gone/a.txt" }));
        }
        return next(args);
      },
      { step: "initialize", name: "deleteBeforeHead" },
    );

    expect(await syncMetadata(current)).toMatchObject({ examined: 1, missing: 1, failed: 0, updated: 0 });
  });

  it("sends ACL, encryption and storage class with MetadataDirective REPLACE and keeps the tags", async () => {
    await put("acl/a.txt", "a");
    await raw.send(
      new PutObjectTaggingCommand({
        Bucket: bucket,
        Key: "acl/a.txt",
        Tagging: { TagSet: [{ Key: "team", Value: "media" }] },
      }),
    );
    // Ceph 16 as the CI starts it knows only STANDARD and needs TLS for SSE, so it refuses this copy
    // (counted as a failure); s3rver ignores these headers, so the request itself is checked.
    const current = storage({
      location: "acl",
      defaultAcl: "public-read",
      storageClass: "STANDARD_IA",
      kmsEncryptionKeyId: "arn:aws:kms:us-east-1:111122223333:key/abc",
    });
    const captured = captureRequests(current.client);

    const summary = await syncMetadata(current);

    expect(summary).toMatchObject(strict ? { examined: 1, failed: 1 } : { examined: 1, updated: 1 });
    const copy = captured.find((r) => r.command === "CopyObjectCommand");
    expect(copy?.method).toBe("PUT");
    const headers = copy?.headers ?? {};
    expect(headers["x-amz-copy-source"]).toBe(`${bucket}/acl/a.txt`);
    expect(headers["x-amz-metadata-directive"]).toBe("REPLACE");
    expect(headers["x-amz-tagging-directive"]).toBeUndefined();
    expect(headers["x-amz-copy-source-if-match"]).toMatch(/^"?[0-9a-f]{32}"?$/);
    expect(headers["x-amz-acl"]).toBe("public-read");
    expect(headers["x-amz-storage-class"]).toBe("STANDARD_IA");
    expect(headers["x-amz-server-side-encryption"]).toBe("aws:kms");
    expect(headers["x-amz-server-side-encryption-aws-kms-key-id"]).toBe("arn:aws:kms:us-east-1:111122223333:key/abc");
    expect(headers["content-type"]).toBe("text/plain");
    const tags = await raw.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: "acl/a.txt" }));
    expect(tags.TagSet).toEqual([{ Key: "team", Value: "media" }]);
  });

  it("rewrites every object when an ACL is configured, since HEAD cannot read ACLs", async () => {
    await put("acl-only/a.txt", "a");
    const current = storage({ location: "acl-only", defaultAcl: "private" });
    const results: SyncMetadataObjectResult[] = [];
    await syncMetadata(current);
    expect(await syncMetadata(current, "", { onObject: (r) => results.push(r) })).toMatchObject({ updated: 1 });
    expect(results[0].changes).toEqual([{ header: "x-amz-acl", from: undefined, to: "private" }]);
  });

  it("refuses a storage that is not on S3", async () => {
    const memory = new InMemoryStorage();
    memory.name = "scratch";
    const error = await syncMetadata(memory as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageConfigError);
    expect((error as Error).message).toContain('storage "scratch" is a memory storage');
  });

  it("refuses a missing bucket and refused credentials before touching anything", async () => {
    const missing = makeS3Storage(`${bucket}-missing`, "default");
    opened.push(missing);
    const noBucket = await syncMetadata(missing).catch((e: unknown) => e);
    expect(noBucket).toBeInstanceOf(StorageConfigError);
    expect((noBucket as Error).message).toContain("the bucket does not exist");
    expect(((noBucket as Error).cause as Error).name).toBe("NoSuchBucket");

    const stranger = storage({ accessKey: "NOBODY", secretKey: "nothing" });
    const refused = await syncMetadata(stranger).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StorageConfigError);
    expect((refused as Error).message).toContain("the credentials were refused (InvalidAccessKeyId");
  });
});

describeStrict("syncMetadata on a strict S3 server", () => {
  let bucket: string;
  const raw = rawClient();

  beforeAll(async () => {
    bucket = await createTestBucket("sync-meta-strict");
  });

  afterAll(async () => {
    await deleteTestBucket(bucket);
    raw.destroy();
  });

  it("makes objects anonymously readable when it applies a public-read ACL", async () => {
    await raw.send(
      new PutObjectCommand({ Bucket: bucket, Key: "pub/a.txt", Body: "hello", ContentType: "text/plain" }),
    );
    const url = `${s3Env().endpoint}/${bucket}/pub/a.txt`;
    expect((await fetch(url)).status).toBe(403);
    const current = makeS3Storage(bucket, "default", {
      location: "pub",
      defaultAcl: "public-read",
      querystringAuth: false,
    });

    expect(await syncMetadata(current)).toMatchObject({ examined: 1, updated: 1, failed: 0 });

    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("hello");
    await current.close();
  });

  it("leaves a rewritten object private when no ACL is configured: CopyObject does not copy ACLs", async () => {
    await raw.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "was-public/a.txt",
        Body: "x",
        ACL: "public-read",
        ContentType: "text/plain",
      }),
    );
    const url = `${s3Env().endpoint}/${bucket}/was-public/a.txt`;
    expect((await fetch(url)).status).toBe(200);
    const current = makeS3Storage(bucket, "default", { location: "was-public", maxAgeSeconds: 60 });

    expect(await syncMetadata(current)).toMatchObject({ updated: 1 });

    expect((await fetch(url)).status).toBe(403);
    await current.close();
  });

  it.each([
    ["the same size", Buffer.alloc(11 * 1024 * 1024, 2)],
    ["a shorter one", Buffer.from("replaced")],
  ])(
    "aborts a multipart copy when the object is replaced by %s during it, leaving the new object and no parts",
    async (_what, replacement) => {
      await raw.send(
        new PutObjectCommand({ Bucket: bucket, Key: "moving/a.bin", Body: Buffer.alloc(11 * 1024 * 1024, 1) }),
      );
      const current = makeS3Storage(bucket, "default", {
        location: "moving",
        maxAgeSeconds: 60,
        multipartChunksize: 5 * 1024 * 1024,
      });
      let overwritten = false;
      current.client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === "UploadPartCopyCommand" && !overwritten) {
            overwritten = true; // another writer replaces the object between HEAD and the copy
            await raw.send(new PutObjectCommand({ Bucket: bucket, Key: "moving/a.bin", Body: replacement }));
          }
          return next(args);
        },
        { step: "initialize", name: "concurrentWriter" },
      );

      const summary = await syncMetadata(current, "", { multipartCopyThreshold: 5 * 1024 * 1024 });

      expect(summary).toMatchObject({ examined: 1, updated: 0, failed: 1 });
      expect(summary.failures[0].reason).toContain("changed between HEAD and its copy");
      expect((await current.read("a.bin")).equals(replacement)).toBe(true);
      const uploads = await raw.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: "moving/" }));
      expect(uploads.Uploads ?? []).toEqual([]);
      await current.close();
    },
  );

  it("names s3:ListBucket when the credentials may not list the bucket", async () => {
    const denied = await createTestBucket("sync-meta-denied");
    const policy = {
      Version: "2012-10-17",
      Statement: [
        { Effect: "Deny", Principal: { AWS: ["*"] }, Action: ["s3:ListBucket"], Resource: [`arn:aws:s3:::${denied}`] },
      ],
    };
    await raw.send(new PutBucketPolicyCommand({ Bucket: denied, Policy: JSON.stringify(policy) }));
    const current = makeS3Storage(denied, "default", { location: "media" });
    try {
      const error = await syncMetadata(current, "pub/").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageConfigError);
      expect((error as Error).message).toContain(`s3:ListBucket on arn:aws:s3:::${denied}`);
      expect((error as Error).message).toContain('s3:prefix "media/pub/*"');
      expect(((error as Error).cause as Error).name).toBe("AccessDenied");
    } finally {
      await current.close();
      await raw.send(new DeleteBucketPolicyCommand({ Bucket: denied }));
      await deleteTestBucket(denied);
    }
  });
});

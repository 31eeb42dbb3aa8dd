import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { fromPath } from "../../src/content/fromPath";
import { FileNotFoundError } from "../../src/errors/FileNotFoundError";
import type { S3Storage } from "../../src/storage/S3Storage";
import { descriptorsOn } from "../support/openDescriptors";
import {
  CHECKSUM_MODES,
  countRequests,
  createTestBucket,
  deleteTestBucket,
  makeS3Storage,
  rawClient,
  unfinishedUploads,
} from "../support/s3";
import { generatedStream } from "./storageContract";

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

describe.each(CHECKSUM_MODES)("S3Storage with %s SDK checksums", (mode) => {
  let bucket: string;
  let storage: S3Storage;
  const raw = rawClient();

  beforeAll(async () => {
    bucket = await createTestBucket(`s3-${mode}`);
    storage = makeS3Storage(bucket, mode, { location: "media" });
    await storage.ready();
  });

  afterAll(async () => {
    await storage.close();
    await deleteTestBucket(bucket);
    raw.destroy();
  });

  async function objectKeys(prefix: string): Promise<string[]> {
    const page = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (page.Contents ?? []).map((o) => o.Key as string);
  }

  it("puts a small body in one PutObject under the location prefix, with its content type", async () => {
    const requests = countRequests(storage.client);
    const key = await storage.save("small/hello.txt", new Blob(["hello"], { type: "text/plain" }));
    expect(key).toBe("small/hello.txt");
    expect(requests.names).toEqual(["PutObjectCommand"]);
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: "media/small/hello.txt" }));
    expect(head.ContentType).toBe("text/plain");
    expect(head.ContentLength).toBe(5);
  });

  it("buffers a short stream of unknown length into one PutObject", async () => {
    const requests = countRequests(storage.client);
    const key = await storage.save("small/stream.bin", Readable.from([Buffer.from("ab"), Buffer.from("cd")]));
    expect(requests.names).toEqual(["PutObjectCommand"]);
    expect((await storage.read(key)).toString()).toBe("abcd");
  });

  it("stores Content-Disposition: attachment for svg uploads", async () => {
    const key = await storage.save("unsafe/logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: `media/${key}` }));
    expect(head.ContentDisposition).toBe("attachment");
    expect(head.ContentType).toBe("image/svg+xml");
  });

  it("uploads a >8 MiB stream of unknown length in parts and returns its exact size and bytes", async () => {
    const size = 17 * MiB + 123;
    const { stream, digest } = generatedStream(size);
    const requests = countRequests(storage.client);
    const key = await storage.save("big/data.bin", stream, { contentType: "application/x-test" });
    expect(key).toBe("big/data.bin");
    expect(requests.names.filter((n) => n === "UploadPartCommand")).toHaveLength(3);
    expect(requests.names).toContain("CompleteMultipartUploadCommand");
    const stat = await storage.stat(key);
    expect(stat.size).toBe(size);
    expect(stat.contentType).toBe("application/x-test");
    expect(md5(await storage.read(key))).toBe(digest());
    // The name is claimed with a conditional empty PutObject, then the upload completes over it.
    expect(requests.names[0]).toBe("PutObjectCommand");
    expect(requests.names).not.toContain("CopyObjectCommand");
  });

  it("closes the file it was given when a part upload fails, and leaves nothing behind", async () => {
    const dir = await mkdtemp(join(tmpdir(), "s3-parts-"));
    const path = join(dir, "big.bin");
    await writeFile(path, Buffer.alloc(12 * MiB, 7));
    storage.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "UploadPartCommand") throw new Error("part refused");
        return next(args);
      },
      { step: "initialize", name: "refuseParts" },
    );
    try {
      for (let i = 0; i < 2; i++)
        await expect(storage.save(`parts/${i}.bin`, fromPath(path))).rejects.toThrow(/part refused/);
    } finally {
      storage.client.middlewareStack.remove("refuseParts");
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await descriptorsOn(path)).toBe(0);
    expect(await objectKeys("media/parts/")).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  it("claims a new name for a multipart upload when the name is taken, keeping both objects", async () => {
    const first = randomBytes(1000);
    await storage.save("big/taken.bin", first);
    const { stream, digest } = generatedStream(9 * MiB);
    const requests = countRequests(storage.client);
    const key = await storage.save("big/taken.bin", stream);
    expect(key).toMatch(/^big\/taken_[A-Za-z0-9]{7}\.bin$/);
    expect(requests.names.slice(0, 3)).toEqual([
      "PutObjectCommand",
      "PutObjectCommand",
      "CreateMultipartUploadCommand",
    ]);
    expect(md5(await storage.read("big/taken.bin"))).toBe(md5(first));
    expect(md5(await storage.read(key))).toBe(digest());
    expect((await storage.stat(key)).size).toBe(9 * MiB);
  });

  it("uploads straight to the key, with no copy, when overwriting", async () => {
    await storage.save("big/over.bin", "old");
    const requests = countRequests(storage.client);
    const { stream, digest } = generatedStream(9 * MiB);
    const key = await storage.save("big/over.bin", stream, { overwrite: true });
    expect(key).toBe("big/over.bin");
    expect(requests.names).not.toContain("CopyObjectCommand");
    expect(md5(await storage.read(key))).toBe(digest());
  });

  it("picks a new name on a conditional PutObject collision and never overwrites", async () => {
    await storage.save("race/a.txt", "first");
    const requests = countRequests(storage.client);
    const key = await storage.save("race/a.txt", "second");
    expect(key).toMatch(/^race\/a_[A-Za-z0-9]{7}\.txt$/);
    // No HeadObject first: the write itself is conditional, the 412 picks the new name.
    expect(requests.names).toEqual(["PutObjectCommand", "PutObjectCommand"]);
    expect((await storage.read("race/a.txt")).toString()).toBe("first");
    expect((await storage.read(key)).toString()).toBe("second");
  });

  it("aborts a multipart upload on signal and leaves no object, placeholder or parts", async () => {
    const controller = new AbortController();
    const { stream } = generatedStream(64 * MiB);
    const saving = storage.save("big/aborted.bin", stream, {
      signal: controller.signal,
      onProgress: (sent) => {
        if (sent > 20 * MiB) controller.abort();
      },
    });
    await expect(saving).rejects.toMatchObject({ name: "AbortError" });
    expect(await storage.exists("big/aborted.bin")).toBe(false);
    expect(await objectKeys("media/big/aborted")).toEqual([]);
    expect(await unfinishedUploads(bucket)).toEqual([]);
  });

  it("rejects at once with the abort reason when the signal has already fired, writing nothing", async () => {
    const controller = new AbortController();
    controller.abort();
    const requests = countRequests(storage.client);
    await expect(storage.save("small/never.txt", "x", { signal: controller.signal })).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(requests.count).toBe(0);
    expect(await storage.exists("small/never.txt")).toBe(false);
  });

  it("reads byte ranges with an inclusive end and an open end", async () => {
    const key = await storage.save("range.txt", "0123456789");
    expect((await storage.read(key, { start: 2, end: 4 })).toString()).toBe("234");
    expect((await storage.read(key, { start: 7 })).toString()).toBe("789");
  });

  it("reports a missing object by value: stat/read throw FileNotFoundError, exists is false, delete no-op", async () => {
    await expect(storage.stat("missing.txt")).rejects.toBeInstanceOf(FileNotFoundError);
    await expect(storage.read("missing.txt")).rejects.toBeInstanceOf(FileNotFoundError);
    expect(await storage.exists("missing.txt")).toBe(false);
    await expect(storage.delete("missing.txt")).resolves.toBeUndefined();
  });

  it("stats an unquoted ETag equal to the MD5 of a single-part object", async () => {
    const bytes = randomBytes(2048);
    const key = await storage.save("etag.bin", bytes);
    expect((await storage.stat(key)).etag).toBe(md5(bytes));
  });

  it("lists relative names with the location stripped", async () => {
    await storage.save("list/one.txt", "1");
    await storage.save("list/sub/two.txt", "2");
    expect(await storage.listdir("list")).toEqual({ directories: ["sub"], files: ["one.txt"] });
    expect((await storage.listdir("")).directories).toContain("list");
  });
});

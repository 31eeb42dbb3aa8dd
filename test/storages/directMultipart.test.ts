import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FileValidationError } from "../../src/errors/FileValidationError";
import { StorageConfigError } from "../../src/errors/StorageConfigError";
import { FileSystemStorage } from "../../src/storage/FileSystemStorage";
import { InMemoryStorage } from "../../src/storage/InMemoryStorage";
import type { S3Storage } from "../../src/storage/S3Storage";
import type { UploadedPart, UploadPart } from "../../src/types";
import {
  CHECKSUM_MODES,
  createTestBucket,
  deleteTestBucket,
  makeS3Storage,
  strict,
  unfinishedUploads,
} from "../support/s3";

const MiB = 1024 * 1024;

/** A body whose every byte depends on its offset, so a part sent at the wrong place shows. */
function pattern(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 11)) & 0xff;
  return bytes;
}

/** Sends each part as a browser would, resolving with what the completion needs. */
async function sendParts(parts: UploadPart[], body: Buffer): Promise<UploadedPart[]> {
  const sent: UploadedPart[] = [];
  let offset = 0;
  for (const part of parts) {
    const response = await fetch(part.url, {
      method: "PUT",
      body: new Uint8Array(body.subarray(offset, offset + part.size)),
    });
    expect(response.status).toBe(200);
    sent.push({ partNumber: part.partNumber, etag: response.headers.get("etag") as string });
    offset += part.size;
  }
  return sent;
}

describe.each(CHECKSUM_MODES)("Storage.createMultipartUpload on S3 (%s checksums)", (mode) => {
  let bucket: string;
  let storage: S3Storage;

  beforeAll(async () => {
    bucket = await createTestBucket(`direct-parts-${mode}`);
    storage = makeS3Storage(bucket, mode, { location: "media" });
    await storage.ready();
  });
  afterAll(async () => {
    await storage.close();
    await deleteTestBucket(bucket);
  });

  it("signs one PUT per part, each for its size, and joins what the browser sent", async () => {
    const body = pattern(11 * MiB + 123);
    const upload = await storage.createMultipartUpload("videos/clip.mp4", { size: body.length, partSize: 5 * MiB });
    expect(upload).toMatchObject({
      key: "videos/clip.mp4",
      size: body.length,
      contentType: "video/mp4",
      partSize: 5 * MiB,
    });
    expect(upload.parts.map((p) => [p.partNumber, p.size])).toEqual([
      [1, 5 * MiB],
      [2, 5 * MiB],
      [3, MiB + 123],
    ]);
    for (const part of upload.parts) {
      const params = new URL(part.url).searchParams;
      expect(params.get("partNumber")).toBe(String(part.partNumber));
      expect(params.get("uploadId")).toBe(upload.uploadId);
      expect(params.get("X-Amz-SignedHeaders")).toBe("content-length;host");
    }
    expect(await storage.exists(upload.key)).toBe(false);
    // part 2's URL signed again (a late retry): another URL for the same part and size
    const again = await storage.signUploadParts(upload.key, upload.uploadId, {
      size: body.length,
      partSize: 5 * MiB,
      partNumbers: [2],
      expiresIn: 900,
    });
    expect(again.parts.map((p) => [p.partNumber, p.size])).toEqual([[2, 5 * MiB]]);
    expect(new URL(again.parts[0].url).searchParams.get("X-Amz-Expires")).toBe("900");
    const parts = await sendParts([upload.parts[0], again.parts[0], upload.parts[2]], body);
    await storage.completeMultipartUpload(upload.key, upload.uploadId, parts);
    expect((await storage.read(upload.key)).equals(body)).toBe(true);
    await expect(
      storage.signUploadParts(upload.key, upload.uploadId, { size: body.length, partSize: 5 * MiB, partNumbers: [4] }),
    ).rejects.toThrow(RangeError);
    expect(await storage.stat(upload.key)).toMatchObject({ size: body.length, contentType: "video/mp4" });
  });

  it("refuses parts that are not the ones sent, and an aborted upload, with the uploader's words", async () => {
    const body = pattern(6 * MiB);
    const upload = await storage.createMultipartUpload("videos/wrong.bin", { size: body.length, partSize: 5 * MiB });
    const parts = await sendParts(upload.parts, body);
    const complete = (list: UploadedPart[]) => storage.completeMultipartUpload(upload.key, upload.uploadId, list);
    await expect(complete([])).rejects.toMatchObject({ name: "FileValidationError", rule: "upload" });
    await expect(complete([parts[1], parts[0]])).rejects.toThrow(/ascending order/);
    // s3rver joins whatever ETags it is given; a strict server checks them
    if (strict)
      await expect(complete([parts[0], { partNumber: 2, etag: '"0123456789abcdef0123456789abcdef"' }])).rejects.toThrow(
        FileValidationError,
      );
    await storage.abortMultipartUpload(upload.key, upload.uploadId);
    await storage.abortMultipartUpload(upload.key, upload.uploadId); // gone already: not an error
    // AWS answers NoSuchUpload (rule "upload"); s3rver a 500, Ceph "completion already in progress"
    await expect(complete(parts)).rejects.toThrow(/Cannot complete|Could not upload/);
    expect(await storage.exists(upload.key)).toBe(false);
    expect(await unfinishedUploads(bucket)).toEqual([]);
  });

  (strict ? it : it.skip)(
    "refuses a part of another size than signed (strict: s3rver checks no signature)",
    async () => {
      const upload = await storage.createMultipartUpload("videos/short.bin", { size: 6 * MiB, partSize: 5 * MiB });
      const response = await fetch(upload.parts[0].url, { method: "PUT", body: new Uint8Array(4 * MiB) });
      expect(response.status).toBe(403);
      await storage.abortMultipartUpload(upload.key, upload.uploadId);
    },
  );

  it("checks the part size and the lifetime before beginning anything", async () => {
    await expect(storage.createMultipartUpload("a.bin", { size: 10, partSize: MiB })).rejects.toThrow(RangeError);
    await expect(storage.createMultipartUpload("a.bin", { size: 60 * 1024 * MiB, partSize: 5 * MiB })).rejects.toThrow(
      /more than 10000 parts/,
    );
    const big = await storage.createMultipartUpload("big.bin", { size: 200 * 1024 * MiB });
    expect(big.partSize).toBe(21 * MiB); // 10,000 parts at most, whole MiB
    expect(big.parts).toHaveLength(Math.ceil((200 * 1024) / 21));
    await storage.abortMultipartUpload(big.key, big.uploadId);
    await expect(storage.createMultipartUpload("huge.bin", { size: 6 * 1024 * 1024 * MiB })).rejects.toMatchObject({
      name: "FileValidationError",
      rule: "size",
    });
    await expect(storage.createMultipartUpload("a.exe", { size: 10, accept: [".pdf"] })).rejects.toMatchObject({
      rule: "accept",
    });
  });
});

describe("uploads in parts elsewhere", () => {
  it("is refused on disk and in memory, which take any size in one createUpload", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "parts-"));
    try {
      const disk = new FileSystemStorage({ location: root, signingSecret: "s".repeat(40) });
      for (const storage of [disk, new InMemoryStorage()])
        await expect(storage.createMultipartUpload("a.bin", { size: 6 * MiB })).rejects.toThrow(StorageConfigError);
      await expect(disk.completeMultipartUpload("a.bin", "id", [{ partNumber: 1, etag: '"x"' }])).rejects.toMatchObject(
        {
          rule: "upload",
        },
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

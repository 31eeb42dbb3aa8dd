import { createHash } from "node:crypto";
import { GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { uploadInParts } from "../../src/drivers/s3/uploadInParts";
import {
  CHECKSUM_MODES,
  captureRequests,
  countRequests,
  createTestBucket,
  deleteTestBucket,
  rawClient,
  unfinishedUploads,
} from "../support/s3";
import { generatedStream } from "./storageContract";

const MiB = 1024 * 1024;
const PART = 5 * MiB;

describe.each(CHECKSUM_MODES)("uploadInParts with %s SDK checksums", (mode) => {
  let bucket: string;
  let client: S3Client;

  beforeAll(async () => {
    bucket = await createTestBucket(`parts-${mode}`);
  });
  beforeEach(() => {
    client = rawClient(mode);
  });
  afterEach(() => client.destroy());
  afterAll(() => deleteTestBucket(bucket));

  const upload = (
    key: string,
    body: AsyncIterable<Buffer>,
    extra: { length?: number | null; maxParts?: number } = {},
  ) =>
    uploadInParts({
      client,
      params: { Bucket: bucket, Key: key, ContentType: "application/x-test" },
      body,
      partSize: PART,
      queueSize: 2,
      length: extra.length ?? null,
      maxParts: extra.maxParts,
    });

  async function stored(key: string): Promise<{ size: number | undefined; md5: string; contentType?: string }> {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = Buffer.from(
      await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    return {
      size: object.ContentLength,
      md5: createHash("md5").update(bytes).digest("hex"),
      contentType: object.ContentType,
    };
  }

  async function absent(key: string): Promise<boolean> {
    return client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
      () => false,
      (error: { name?: string }) => error.name === "NotFound",
    );
  }

  /** Records the bytes and the ArrayBuffer of every UploadPart body, in the order they were sent. */
  function partBodies(): { sizes: number[]; buffers: Set<ArrayBufferLike> } {
    const seen = { sizes: [] as number[], buffers: new Set<ArrayBufferLike>() };
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "UploadPartCommand") {
          const body = (args.input as { Body: Buffer }).Body;
          seen.sizes.push(body.length);
          seen.buffers.add(body.buffer);
        }
        return next(args);
      },
      { step: "initialize", name: "partBodies" },
    );
    return seen;
  }

  it("sends a body of exactly one part as one PutObject with the object's headers", async () => {
    const requests = countRequests(client);
    const { stream, digest } = generatedStream(PART);
    await upload("one.bin", stream);
    expect(requests.names).toEqual(["PutObjectCommand"]);
    expect(await stored("one.bin")).toEqual({ size: PART, md5: digest(), contentType: "application/x-test" });
  });

  it("splits exactly two parts' worth into two parts, never an empty third", async () => {
    const requests = countRequests(client);
    const parts = partBodies();
    const { stream, digest } = generatedStream(2 * PART);
    await upload("two.bin", stream);
    expect(requests.names).toEqual([
      "CreateMultipartUploadCommand",
      "UploadPartCommand",
      "UploadPartCommand",
      "CompleteMultipartUploadCommand",
    ]);
    expect(parts.sizes).toEqual([PART, PART]);
    expect(await stored("two.bin")).toEqual({ size: 2 * PART, md5: digest(), contentType: "application/x-test" });
  });

  it("refills queueSize + 1 part buffers however many parts the stream has", async () => {
    const parts = partBodies();
    const size = 9 * PART + 12345;
    const { stream, digest } = generatedStream(size, 100_000);
    await upload("many.bin", stream);
    expect(parts.sizes).toEqual([...Array(9).fill(PART), 12345]);
    // Two in flight (queueSize) and one being filled: three buffers for ten parts.
    expect(parts.buffers.size).toBe(3);
    expect(await stored("many.bin")).toMatchObject({ size, md5: digest() });
  });

  it("sends every part with the checksum algorithm the upload was created with", async () => {
    const captured = captureRequests(client);
    await upload("checksums.bin", generatedStream(PART + 1).stream);
    const create = captured.find((r) => r.command === "CreateMultipartUploadCommand");
    const parts = captured.filter((r) => r.command === "UploadPartCommand");
    expect(parts).toHaveLength(2);
    if (mode === "default") {
      expect(create?.headers["x-amz-checksum-algorithm"]).toBe("CRC32");
      for (const part of parts) expect(part.headers["x-amz-checksum-crc32"]).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    } else {
      expect(create?.headers["x-amz-checksum-algorithm"]).toBeUndefined();
      for (const part of parts)
        expect(Object.keys(part.headers).filter((h) => h.startsWith("x-amz-checksum"))).toEqual([]);
    }
  });

  it("raises the part size when a declared length would need more parts than allowed", async () => {
    const parts = partBodies();
    const size = 12 * MiB;
    const { stream, digest } = generatedStream(size);
    await upload("raised.bin", stream, { length: size, maxParts: 2 });
    expect(parts.sizes).toEqual([6 * MiB, 6 * MiB]);
    expect(await stored("raised.bin")).toMatchObject({ size, md5: digest() });
  });

  it("fails a stream of unknown length past the part limit with advice, leaving no parts", async () => {
    const failing = upload("too-long.bin", generatedStream(2 * PART + 1).stream, { maxParts: 2 });
    await expect(failing).rejects.toThrow(
      "too-long.bin: the stream is longer than 2 parts of 5242880 bytes, S3's limit. Raise multipartChunksize",
    );
    expect(await absent("too-long.bin")).toBe(true);
    expect(await unfinishedUploads(bucket)).toEqual([]);
  });

  it("fails when the content is shorter than declared, aborting the upload", async () => {
    const failing = upload("short.bin", generatedStream(2 * PART).stream, { length: 2 * PART + 10 });
    await expect(failing).rejects.toThrow(
      `short.bin: the content had ${2 * PART} bytes, not the declared ${2 * PART + 10}`,
    );
    expect(await absent("short.bin")).toBe(true);
    expect(await unfinishedUploads(bucket)).toEqual([]);
  });

  it("rejects with a failing part's error only after the others settled, and aborts the upload", async () => {
    const settled: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const part = (args.input as { PartNumber?: number }).PartNumber;
        if (context.commandName === "UploadPartCommand" && part === 2) {
          settled.push("part 2 failed");
          throw Object.assign(new Error("connection reset while sending part 2"), { name: "TimeoutError" });
        }
        const result = await next(args);
        settled.push(`${context.commandName}${part ? ` ${part}` : ""}`);
        return result;
      },
      { step: "initialize", name: "failPart2" },
    );
    const failing = upload("failed.bin", generatedStream(4 * PART).stream);
    await expect(failing).rejects.toThrow("connection reset while sending part 2");
    // Part 1 was in flight when part 2 failed; the abort went out after it, and nothing after that.
    expect(settled.indexOf("UploadPartCommand 1")).toBeLessThan(settled.indexOf("AbortMultipartUploadCommand"));
    expect(settled.at(-1)).toBe("AbortMultipartUploadCommand");
    expect(settled).not.toContain("CompleteMultipartUploadCommand");
    expect(await absent("failed.bin")).toBe(true);
    expect(await unfinishedUploads(bucket)).toEqual([]);
  });

  it("rejects with the source stream's error and aborts the upload begun", async () => {
    async function* brokenSource(): AsyncGenerator<Buffer> {
      yield* generatedStream(PART + 100).stream;
      throw new Error("disk read failed");
    }
    await expect(upload("broken.bin", brokenSource())).rejects.toThrow("disk read failed");
    expect(await absent("broken.bin")).toBe(true);
    expect(await unfinishedUploads(bucket)).toEqual([]);
  });
});

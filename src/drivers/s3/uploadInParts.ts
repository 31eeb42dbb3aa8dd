import type { ChecksumAlgorithm, CompletedPart, PutObjectCommandInput, S3Client } from "@aws-sdk/client-s3";
import { awsSdk } from "./awsSdk";
import { abortError } from "./readHead";

/** The upload being written, and the checksum algorithm every part must carry. */
interface Multipart {
  UploadId: string;
  ChecksumAlgorithm: ChecksumAlgorithm | undefined;
}

/** The object an upload writes, and the headers every request of the upload must repeat. */
type UploadTarget = Pick<
  PutObjectCommandInput,
  "SSECustomerAlgorithm" | "SSECustomerKey" | "SSECustomerKeyMD5" | "ExpectedBucketOwner" | "RequestPayer"
> & { Bucket: string; Key: string };

/** S3 accepts at most this many parts per multipart upload. */
export const MAX_PARTS = 10_000;

/** What `uploadInParts` sends: the PutObject input of the object (headers, ACL, metadata…) without a body. */
export interface PartsUpload {
  client: S3Client;
  params: Omit<PutObjectCommandInput, "Body" | "ContentLength"> & { Bucket: string; Key: string };
  body: AsyncIterable<Buffer | Uint8Array>;
  /** Bytes per part (at least 5 MiB). Raised when `length` would otherwise need more than 10,000 parts. */
  partSize: number;
  /** Parts in flight at once. */
  queueSize: number;
  /** The body's length when known; a body that turns out longer or shorter fails the upload. */
  length: number | null;
  /** The server's part limit: S3's 10,000 unless given (some S3-compatible services allow fewer). */
  maxParts?: number;
  signal?: AbortSignal;
}

/**
 * Streams `body` to one object: a single PutObject when it fits in one part, else CreateMultipartUpload,
 * up to `queueSize` UploadParts at a time, CompleteMultipartUpload. Resolves once the object exists;
 * rejects with the first failure (a part, the source stream, the abort reason) only after every part
 * in flight has settled and the upload has been aborted, so nothing is left behind on S3.
 *
 * Why not lib-storage's `Upload`, which this replaced: it concatenates every part into a newly
 * allocated buffer. glibc serves the first from mmap and, once one is freed, raises its mmap
 * threshold and serves the rest from a heap that fragments, so peak RSS kept growing with the object
 * (224 → 238 MiB from 256 MiB to 2 GiB; flat with `MALLOC_MMAP_THRESHOLD_` fixed, docs/benchmarks.md).
 * Here each upload allocates `queueSize + 1` part buffers once and refills them as parts complete:
 * memory is bounded by `(queueSize + 1) × partSize` whatever the object's size, and the requests are
 * the ones lib-storage sends (the same checksum algorithm on create and on every part).
 */
export async function uploadInParts(upload: PartsUpload): Promise<void> {
  const { client, params, body, length, signal } = upload;
  const maxParts = upload.maxParts ?? MAX_PARTS;
  const partSize = length === null ? upload.partSize : Math.max(upload.partSize, Math.ceil(length / maxParts));
  const free: Buffer[] = [];
  const inFlight = new Set<Promise<void>>();
  let wake: (() => void) | null = null;
  const failures: unknown[] = [];
  // What UploadPart, CompleteMultipartUpload and AbortMultipartUpload carry besides the upload id.
  const target: UploadTarget = {
    Bucket: params.Bucket,
    Key: params.Key,
    SSECustomerAlgorithm: params.SSECustomerAlgorithm,
    SSECustomerKey: params.SSECustomerKey,
    SSECustomerKeyMD5: params.SSECustomerKeyMD5,
    ExpectedBucketOwner: params.ExpectedBucketOwner,
    RequestPayer: params.RequestPayer,
  };
  const parts: CompletedPart[] = [];
  let created: Multipart | null = null;
  let current: Buffer | null = null;
  let filled = 0;
  let partNumber = 0;
  let total = 0;

  const take = (): Buffer => {
    const buffer = free.pop();
    if (buffer) return buffer;
    // Outside Node's small-buffer pool: each is one allocation of its own, kept for the whole upload.
    return Buffer.allocUnsafeSlow(partSize);
  };

  const create = async (): Promise<Multipart> => {
    if (created) return created;
    const checksums = await client.config.requestChecksumCalculation();
    const algorithm =
      params.ChecksumAlgorithm ??
      (checksums === "WHEN_SUPPORTED" ? awsSdk.clientS3.ChecksumAlgorithm.CRC32 : undefined);
    const response = await client.send(
      new awsSdk.clientS3.CreateMultipartUploadCommand({ ...params, ChecksumAlgorithm: algorithm }),
      {
        abortSignal: signal,
      },
    );
    if (!response.UploadId) throw new Error(`CreateMultipartUpload for ${params.Key} returned no UploadId.`);
    created = { UploadId: response.UploadId, ChecksumAlgorithm: algorithm };
    return created;
  };

  const send = (buffer: Buffer, size: number, number: number, multipart: Multipart) => {
    const sending = (async () => {
      try {
        const result = await client.send(
          new awsSdk.clientS3.UploadPartCommand({
            ...target,
            UploadId: multipart.UploadId,
            PartNumber: number,
            Body: buffer.subarray(0, size),
            ContentLength: size,
            ChecksumAlgorithm: multipart.ChecksumAlgorithm,
          }),
          { abortSignal: signal },
        );
        if (!result.ETag) {
          throw new Error(
            `S3 returned no ETag for part ${number} of ${params.Key}; a browser client needs the bucket's CORS ` +
              "configuration to expose the ETag header.",
          );
        }
        parts.push({
          PartNumber: number,
          ETag: result.ETag,
          ChecksumCRC32: result.ChecksumCRC32,
          ChecksumCRC32C: result.ChecksumCRC32C,
          ChecksumCRC64NVME: result.ChecksumCRC64NVME,
          ChecksumSHA1: result.ChecksumSHA1,
          ChecksumSHA256: result.ChecksumSHA256,
        });
      } catch (error) {
        failures.push(error);
      }
    })().finally(() => {
      // The SDK is done with the buffer once send() settles (retries happen inside it).
      free.push(buffer);
      inFlight.delete(sending);
      wake?.();
    });
    inFlight.add(sending);
  };

  /** Sends the filled buffer as the next part once fewer than `queueSize` are in flight. */
  const dispatch = async () => {
    const multipart = await create();
    while (inFlight.size >= upload.queueSize) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    wake = null;
    if (failures.length > 0) return;
    if (partNumber === maxParts) {
      failures.push(
        new Error(
          `${params.Key}: the stream is longer than ${maxParts} parts of ${partSize} bytes, S3's limit. ` +
            "Raise multipartChunksize (AWS_S3_MULTIPART_CHUNKSIZE), or pass the content's length.",
        ),
      );
      return;
    }
    send(current as Buffer, filled, ++partNumber, multipart);
    current = null;
    filled = 0;
  };

  try {
    for await (const data of body) {
      if (signal?.aborted) throw abortError(signal);
      const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      total += chunk.length;
      let offset = 0;
      while (offset < chunk.length) {
        // A full buffer goes out only when more bytes follow, so the last part is never empty and a
        // body of exactly one part is one PutObject.
        if (current !== null && filled === partSize) await dispatch();
        if (failures.length > 0) break;
        current ??= take();
        const copied = chunk.copy(current, filled, offset, Math.min(chunk.length, offset + partSize - filled));
        filled += copied;
        offset += copied;
      }
      if (failures.length > 0) break;
    }
    if (failures.length === 0 && length !== null && total !== length) {
      failures.push(
        new Error(
          `${params.Key}: the content had ${total} bytes, not the declared ${length}; was the file changed while it was uploaded?`,
        ),
      );
    }
    if (failures.length === 0 && partNumber === 0) {
      await client.send(
        new awsSdk.clientS3.PutObjectCommand({
          ...params,
          Body: (current ?? Buffer.alloc(0)).subarray(0, filled),
          ContentLength: filled,
        }),
        { abortSignal: signal },
      );
      return;
    }
    if (failures.length === 0) await dispatch();
  } catch (error) {
    failures.push(error);
  }
  await Promise.allSettled([...inFlight]);
  const pending = created as Multipart | null;
  if (failures.length > 0) {
    if (pending) await abortUpload(client, target, pending.UploadId, failures[0]);
    throw failures[0];
  }
  parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
  try {
    await client.send(
      new awsSdk.clientS3.CompleteMultipartUploadCommand({
        ...target,
        UploadId: pending?.UploadId,
        MultipartUpload: { Parts: parts },
      }),
      { abortSignal: signal },
    );
  } catch (error) {
    if (pending) await abortUpload(client, target, pending.UploadId, error);
    throw error;
  }
}

/**
 * AbortMultipartUpload, so S3 drops the parts. Sent without the caller's signal (it may be what
 * fired). If it fails too, the parts stay until a lifecycle rule removes them: that failure becomes
 * the `cause` of the error being thrown when it has none.
 */
async function abortUpload(client: S3Client, target: UploadTarget, uploadId: string, error: unknown) {
  const { Bucket, Key, ExpectedBucketOwner, RequestPayer } = target;
  try {
    await client.send(
      new awsSdk.clientS3.AbortMultipartUploadCommand({
        Bucket,
        Key,
        ExpectedBucketOwner,
        RequestPayer,
        UploadId: uploadId,
      }),
    );
  } catch (abortFailure) {
    if (error instanceof Error && error.cause === undefined) error.cause = abortFailure;
  }
}

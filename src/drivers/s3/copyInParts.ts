import type { CompletedPart, S3Client } from "@aws-sdk/client-s3";
import { encodeKeyPath } from "../../http/encodeKeyPath";
import { awsSdk } from "./awsSdk";
import type { S3ReplacementHeaders } from "./planMetadataUpdate";
import type { S3ReadParameters } from "./readParameters";

/** S3's limits on a multipart upload: parts of 5 MiB to 5 GiB (the last may be smaller), 10,000 of them. */
const MIN_PART = 5 * 1024 ** 2;
const MAX_PART = 5 * 1024 ** 3;
const MAX_PARTS = 10_000;

/** What `copyInParts` rewrites, and how. */
export interface CopyInPartsInput {
  bucket: string;
  /** The full object key (with the storage's location). */
  key: string;
  /** The object's size and ETag, from the HEAD its new headers were planned from. */
  size: number;
  etag: string;
  /** The object's new headers (`planMetadataUpdate`), as for CopyObject with MetadataDirective REPLACE. */
  headers: S3ReplacementHeaders;
  /** The parameters a read of the object repeats (SSE-C key, RequestPayer, ExpectedBucketOwner). */
  read: S3ReadParameters | undefined;
  /** Bytes per part (grown to fit 10,000 parts) and parts copied at a time. */
  partSize: number;
  concurrency: number;
}

/**
 * Rewrites an object onto itself in parts, as `aws s3 cp` does for objects CopyObject cannot copy
 * (over 5 GiB): CreateMultipartUpload with the new headers and the object's tags (a new upload has
 * none, where CopyObject keeps them), UploadPartCopy per byte range, each only while the object still
 * has the ETag its headers were planned from, then a HEAD to check it still has, CompleteMultipartUpload
 * with If-Match on that ETag, and PutObjectTagging for a tagged object (Ceph ignores the tags of
 * CreateMultipartUpload). The bytes never leave the
 * server. On any failure the upload is aborted, so the object is left as it was, and the error is
 * thrown (s3rver answers UploadPartCopy NotImplemented). A server that answers it without a copy
 * result, as one storing the request as an empty part would, is refused before anything is completed.
 */
export async function copyInParts(client: S3Client, input: CopyInPartsInput): Promise<void> {
  const { bucket, key, size, etag, headers, read } = input;
  const owner = { RequestPayer: read?.RequestPayer, ExpectedBucketOwner: read?.ExpectedBucketOwner };
  const tagging = await client.send(
    new awsSdk.clientS3.GetObjectTaggingCommand({ Bucket: bucket, Key: key, ...owner }),
  );
  const tags = (tagging.TagSet ?? [])
    .map(({ Key, Value }) => `${encodeURIComponent(Key ?? "")}=${encodeURIComponent(Value ?? "")}`)
    .join("&");
  const created = await client.send(
    new awsSdk.clientS3.CreateMultipartUploadCommand({
      ...headers,
      Bucket: bucket,
      Key: key,
      Tagging: tags || undefined,
    }),
  );
  const uploadId = created.UploadId as string;
  const destination = {
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
    SSECustomerAlgorithm: headers.SSECustomerAlgorithm,
    SSECustomerKey: headers.SSECustomerKey,
    SSECustomerKeyMD5: headers.SSECustomerKeyMD5,
    ...owner,
  };
  try {
    const partSize = Math.min(MAX_PART, Math.max(MIN_PART, input.partSize, Math.ceil(size / MAX_PARTS)));
    const count = Math.max(1, Math.ceil(size / partSize));
    const parts: CompletedPart[] = new Array(count);
    const copyPart = async (index: number) => {
      const start = index * partSize;
      const end = Math.min(size, start + partSize) - 1;
      const copied = await client.send(
        new awsSdk.clientS3.UploadPartCopyCommand({
          ...destination,
          PartNumber: index + 1,
          CopySource: `${bucket}/${encodeKeyPath(key)}`,
          CopySourceRange: size === 0 ? undefined : `bytes=${start}-${end}`,
          CopySourceIfMatch: etag,
          CopySourceSSECustomerAlgorithm: read?.SSECustomerAlgorithm,
          CopySourceSSECustomerKey: read?.SSECustomerKey,
          CopySourceSSECustomerKeyMD5: read?.SSECustomerKeyMD5,
          ExpectedSourceBucketOwner: read?.ExpectedBucketOwner,
        }),
      );
      const result = copied.CopyPartResult;
      if (!result?.ETag)
        throw new Error(
          "the server answered UploadPartCopy without a CopyPartResult, so it does not copy parts; the upload " +
            "was aborted and the object left as it was",
        );
      const { ETag, ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256 } = result;
      parts[index] = {
        PartNumber: index + 1,
        ETag,
        ChecksumCRC32,
        ChecksumCRC32C,
        ChecksumCRC64NVME,
        ChecksumSHA1,
        ChecksumSHA256,
      };
    };
    let next = 0;
    const errors: unknown[] = [];
    const worker = async () => {
      while (errors.length === 0 && next < count) {
        try {
          await copyPart(next++);
        } catch (error) {
          errors.push(error);
        }
      }
    };
    // every worker has stopped before the upload is completed or aborted: no part lands after either
    await Promise.all(Array.from({ length: Math.min(input.concurrency, count) }, worker));
    if (errors.length > 0) throw errors[0];
    // Completing writes the key unconditionally unless the server honours If-Match (S3 does): check the
    // object is still the one copied, since Ceph RGW ignores CopySourceIfMatch on UploadPartCopy.
    const now = await client.send(new awsSdk.clientS3.HeadObjectCommand({ ...read, Bucket: bucket, Key: key }));
    if (now.ETag !== etag)
      throw Object.assign(new Error("the object changed while its parts were copied"), { name: "PreconditionFailed" });
    await client.send(
      new awsSdk.clientS3.CompleteMultipartUploadCommand({
        ...destination,
        MultipartUpload: { Parts: parts },
        IfMatch: etag,
      }),
    );
  } catch (error) {
    await client
      .send(new awsSdk.clientS3.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, ...owner }))
      .catch(() => undefined);
    throw error;
  }
  // S3 tags the object from CreateMultipartUpload's header; Ceph RGW ignores that header, so the tags
  // are set again (a tagged object only).
  if (tagging.TagSet?.length) {
    try {
      await client.send(
        new awsSdk.clientS3.PutObjectTaggingCommand({
          Bucket: bucket,
          Key: key,
          Tagging: { TagSet: tagging.TagSet },
          ...owner,
        }),
      );
    } catch (error) {
      throw new Error(
        `the object was rewritten, but its tags (${tags}) could not be set again: ${(error as Error).message}. ` +
          "Set them with PutObjectTagging (s3:PutObjectTagging).",
        { cause: error },
      );
    }
  }
}

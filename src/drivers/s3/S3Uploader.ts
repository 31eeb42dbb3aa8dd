import type { Readable } from "node:stream";
import type { PutObjectCommandInput, S3Client } from "@aws-sdk/client-s3";
import { assertAnnouncedLength } from "../../content/assertAnnouncedLength";
import type { DriverBody, DriverWriteOptions, DriverWriteResult } from "../../types";
import { awsSdk } from "./awsSdk";
import { isConditionalConflict, isPreconditionFailed } from "./conditionalErrors";
import { explainAclError } from "./explainAclError";
import { gzipIfSmaller, UNCOMPRESSED_SIZE } from "./gzipIfSmaller";
import { abortError, readHead } from "./readHead";
import type { ResolvedS3Options, S3ObjectParameters } from "./S3StorageOptions";
import { uploadInParts } from "./uploadInParts";

/** Give up after this many taken names in a row (each is a fresh random name, so this means a bug). */
const MAX_ATTEMPTS = 16;

/**
 * Writes objects: one PutObject for small bodies (conditional unless overwriting), a multipart upload
 * (`uploadInParts`) for large or unknown-length streams. Never hands PutObject a raw stream: with the SDK's default
 * checksums that becomes `aws-chunked`, which S3-compatible servers refuse (411) or store corrupted.
 */
export class S3Uploader {
  readonly #client: S3Client;
  readonly #options: ResolvedS3Options;
  readonly #parametersFor: (name: string) => S3ObjectParameters;

  constructor(client: S3Client, options: ResolvedS3Options, parametersFor: (name: string) => S3ObjectParameters) {
    this.#client = client;
    this.#options = options;
    this.#parametersFor = parametersFor;
  }

  /** Stores `body` under `key` (relative to `location`) and resolves with the key used and the byte count. */
  async write(key: string, body: DriverBody, options: DriverWriteOptions): Promise<DriverWriteResult> {
    if (body.kind === "buffer") {
      if (options.signal?.aborted) throw abortError(options.signal);
      return this.#putBuffer(key, body.buffer, options);
    }
    try {
      return await this.#writeStream(key, body, options);
    } catch (error) {
      // Whatever failed (an abort, a part, the claim of the name), the content is read no further:
      // release it, as the disk driver does, or a file's descriptor stays open until the process exits.
      body.stream.destroy();
      throw error;
    }
  }

  async #writeStream(
    key: string,
    body: Extract<DriverBody, { kind: "stream" }>,
    options: DriverWriteOptions,
  ): Promise<DriverWriteResult> {
    const { signal } = options;
    if (signal?.aborted) throw abortError(signal);
    let size = 0;
    const count = (n: number) => {
      size += n;
    };
    // Buffer small streams (known length or not): a Buffer PutObject is the only single-request upload
    // that works in every checksum mode, and it can be retried under another name without re-reading.
    const { head, rest } = await readHead(body.stream, this.#options.multipartThreshold, count, signal);
    if (rest === null) {
      const buffer = Buffer.concat(head);
      assertAnnouncedLength(buffer.length, body.length);
      return this.#putBuffer(key, buffer, options);
    }
    if (options.overwrite) {
      await this.#upload(this.#options.keyPrefix + key, rest, this.#objectParams(key, options), body.length, signal);
      return { key, size };
    }
    return { key: await this.#claimAndUpload(key, rest, body.length, options), size };
  }

  /**
   * The storage's headers for `key` (see `S3Storage.getObjectParameters`), plus this write's content
   * type and, when the facade chose one (an explicit value, or `attachment` for html/svg/xml), its
   * Content-Disposition, which wins over the storage's setting.
   */
  #objectParams(key: string, options: DriverWriteOptions): S3ObjectParameters {
    const params: S3ObjectParameters = { ...this.#parametersFor(key) };
    params.ContentType = options.contentType;
    if (options.contentDisposition !== null) params.ContentDisposition = options.contentDisposition;
    return params;
  }

  async #putBuffer(key: string, buffer: Buffer, options: DriverWriteOptions): Promise<DriverWriteResult> {
    const firstParams = this.#objectParams(key, options);
    // A ContentEncoding in the object parameters says the bytes are encoded already (django-storages
    // then does not gzip either); they are stored as they are, under that encoding.
    const gzipped =
      firstParams.ContentEncoding === undefined
        ? await gzipIfSmaller(buffer, options.contentType, this.#options)
        : null;
    const body = gzipped ?? buffer;
    let candidate = key;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const params = attempt === 0 ? firstParams : this.#objectParams(candidate, options);
      if (gzipped !== null) {
        params.ContentEncoding = "gzip";
        params.Metadata = { ...params.Metadata, [UNCOMPRESSED_SIZE]: String(buffer.length) };
      }
      const input: PutObjectCommandInput = {
        ...params,
        Bucket: this.#options.bucketName,
        Key: this.#options.keyPrefix + candidate,
        Body: body,
        ContentLength: body.length,
        IfNoneMatch: options.overwrite ? undefined : "*",
      };
      try {
        await this.#client.send(new awsSdk.clientS3.PutObjectCommand(input), { abortSignal: options.signal });
        return { key: candidate, size: buffer.length };
      } catch (error) {
        if (options.overwrite || !(isPreconditionFailed(error) || isConditionalConflict(error))) {
          throw explainAclError(error, this.#options.bucketName);
        }
        if (isPreconditionFailed(error)) candidate = options.alternativeKey(candidate);
      }
    }
    throw new Error(`Gave up after ${MAX_ATTEMPTS} taken names for ${JSON.stringify(key)}.`);
  }

  /**
   * Streams `body` to `objectKey` in parts (`uploadInParts`: fixed part buffers, so memory does not
   * grow with the object). An abort destroys the source (see `readHead`) and cancels the parts in
   * flight; the upload is aborted on S3 before this rejects, so nothing is left on return.
   */
  async #upload(
    objectKey: string,
    body: Readable,
    params: S3ObjectParameters,
    length: number | null,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    try {
      await uploadInParts({
        client: this.#client,
        params: { ...params, Bucket: this.#options.bucketName, Key: objectKey },
        body,
        length,
        partSize: this.#options.multipartChunksize,
        queueSize: this.#options.maxConcurrency,
        signal,
      });
    } catch (error) {
      throw explainAclError(error, this.#options.bucketName);
    }
    if (signal?.aborted) {
      // Every byte had been read when the abort came; the object exists now, so remove it.
      await this.#delete(objectKey, params);
      throw abortError(signal);
    }
  }

  /**
   * Multipart upload without overwrite: claim the name first, then upload into it. Candid version:
   * S3 can make CompleteMultipartUpload conditional (`If-None-Match: *`), but when that condition
   * fails the parts belong to an upload that can only ever complete under the taken key, so the upload
   * is lost and the stream is gone; and servers that ignore the header on completion or on CopyObject
   * (Ceph 16 and s3rver, both checked by the tests) overwrite instead, so a "stage, then conditional
   * copy" scheme overwrites there. What every server here honours is `If-None-Match: *` on PutObject.
   * So an empty placeholder is put under the name conditionally (412: the next alternative name), and
   * the multipart upload then completes unconditionally over our own placeholder: never an overwrite
   * of someone else's object, never a lost upload, no server-side copy. This is Django's
   * FileSystemStorage (O_CREAT|O_EXCL, then write): while the upload runs the name holds an empty
   * object, which nothing references yet because the key is returned only at the end. On failure or
   * abort the placeholder is deleted; a process that dies mid-upload leaves it (and S3 keeps the
   * parts until a lifecycle rule aborts incomplete uploads). A writer that chose `overwrite` may
   * replace the placeholder meanwhile; the last completion wins, as overwriting writers asked for.
   */
  async #claimAndUpload(
    key: string,
    body: Readable,
    length: number | null,
    options: DriverWriteOptions,
  ): Promise<string> {
    const claimed = await this.#putBuffer(key, Buffer.alloc(0), { ...options, contentDisposition: null });
    const objectKey = this.#options.keyPrefix + claimed.key;
    const params = this.#objectParams(claimed.key, options);
    try {
      await this.#upload(objectKey, body, params, length, options.signal);
    } catch (error) {
      await this.#delete(objectKey, params).catch(() => undefined);
      throw error;
    }
    return claimed.key;
  }

  async #delete(objectKey: string, { RequestPayer, ExpectedBucketOwner }: S3ObjectParameters): Promise<void> {
    await this.#client.send(
      new awsSdk.clientS3.DeleteObjectCommand({
        Bucket: this.#options.bucketName,
        Key: objectKey,
        RequestPayer,
        ExpectedBucketOwner,
      }),
    );
  }
}

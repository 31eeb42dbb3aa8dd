import { pipeline, Readable } from "node:stream";
import type {
  GetObjectCommandOutput,
  HeadObjectCommandOutput,
  ListObjectsV2CommandOutput,
  S3Client,
} from "@aws-sdk/client-s3";
import { StorageConfigError } from "../../errors/StorageConfigError";
import type { StorageOperation } from "../../errors/StorageOperationError";
import type {
  ByteRange,
  DriverBody,
  DriverMultipartOptions,
  DriverMultipartUpload,
  DriverUploadOptions,
  DriverUploadRequest,
  DriverWriteOptions,
  DriverWriteResult,
  ListResult,
  ObjectStat,
  StorageDriver,
  StoredObject,
  UploadedPart,
  UploadPart,
  UrlOptions,
} from "../../types";
import { awsSdk } from "./awsSdk";
import { buildS3Client } from "./buildS3Client";
import { isPreconditionFailed } from "./conditionalErrors";
import { defaultObjectParameters } from "./defaultObjectParameters";
import { explainS3Failure } from "./explainS3Failure";
import { gunzipBody, isGzipEncoded } from "./gunzipBody";
import { gzipTrailerSizeIsExact, uncompressedSize } from "./gzipIfSmaller";
import { listObjectsPage } from "./listObjectsPage";
import { parseTagging } from "./parseTagging";
import { putObjectHeaders } from "./putObjectHeaders";
import { readParameters } from "./readParameters";
import { resolveS3Options } from "./resolveS3Options";
import { clientUrlBase, startupUrlBase } from "./resolveUrlBase";
import { type CredentialProvider, S3Credentials } from "./S3Credentials";
import type { ResolvedS3Options, S3ObjectParameters, S3StorageOptions } from "./S3StorageOptions";
import { S3Uploader } from "./S3Uploader";
import { S3UrlBuilder } from "./S3UrlBuilder";
import { contentRangeStart, sliceRange } from "./sliceRange";

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  // a missing bucket is a configuration error, which explainS3Failure explains, not a missing file
  if (name === "NoSuchBucket") return false;
  return name === "NotFound" || name === "NoSuchKey" || status(error) === 404;
}

/** `"abc"` and `abc` are the same ETag; S3 quotes it, Ceph's CopyObjectResult does not. */
function normalizeEtag(etag: string | undefined): string | null {
  return etag ? etag.replace(/^W\//, "").replace(/"/g, "") : null;
}

/**
 * The S3 backend of `S3Storage`: moves bytes with the AWS SDK v3 and builds URLs without it. Throws raw
 * SDK errors (the `Storage` facade wraps them) and `StorageConfigError` for configuration problems.
 */
export class S3Driver implements StorageDriver {
  readonly kind = "s3";
  readonly #options: ResolvedS3Options;
  readonly #client: S3Client;
  readonly #ownsClient: boolean;
  readonly #credentials: S3Credentials;
  readonly #urls: S3UrlBuilder;
  readonly #uploader: S3Uploader;
  readonly #parametersFor: (name: string) => S3ObjectParameters;
  #ready: Promise<void> | null = null;
  /** An injected client, with URLs the connection options point elsewhere (`injectedClientBase`). */
  readonly #urlsFromOptions: boolean;

  /**
   * Validates `options` (throws `StorageConfigError`) and builds the client; makes no request.
   * `objectParameters(name)` gives the headers of a new object (default: from the settings), and what
   * reads of it must repeat (`readParameters`).
   */
  constructor(
    options: S3StorageOptions,
    objectParameters: (name: string) => S3ObjectParameters = (name) => defaultObjectParameters(name, this.#options),
  ) {
    this.#options = resolveS3Options(options);
    this.#ownsClient = this.#options.client === undefined;
    this.#client = this.#options.client ?? buildS3Client(this.#options);
    const { accessKey, secretKey, securityToken } = this.#options;
    const staticCredentials =
      accessKey !== undefined && secretKey !== undefined
        ? { accessKeyId: accessKey, secretAccessKey: secretKey, sessionToken: securityToken }
        : null;
    this.#credentials = new S3Credentials(
      (opts) => (this.#client.config.credentials as CredentialProvider)(opts),
      staticCredentials,
    );
    const startup = startupUrlBase(this.#client, this.#options);
    this.#urls = new S3UrlBuilder(this.#options, startup);
    this.#urlsFromOptions = this.#options.client !== undefined && startup !== null;
    this.#uploader = new S3Uploader(this.#client, this.#options, objectParameters);
    this.#parametersFor = objectParameters;
  }

  /**
   * True when URLs carry no signature (`querystringAuth: false`, `publicUrl`, or a custom domain with
   * `cloudfrontSigner: null`), so anyone holding one can read the object; private fields refuse such storages.
   */
  get publicUrls(): boolean {
    return this.#urls.publicUrls;
  }

  /**
   * True when new objects are written readable without a signature, whatever their URLs: a canned ACL
   * (`objectParameters.ACL`, else `defaultAcl`) of `public-read`, `public-read-write` or
   * `authenticated-read` (any AWS account), or a `GrantRead`, `GrantFullControl` or `GrantWriteACP` (its
   * holder can grant itself read) naming the AllUsers or AuthenticatedUsers group. Grants to named
   * accounts are deliberate sharing, and `GrantReadACP` shows the ACL, not the bytes. Private fields
   * refuse such storages. Read from the settings: an overridden `getObjectParameters` is not asked.
   */
  get publicObjects(): boolean {
    const { objectParameters, defaultAcl } = this.#options;
    const acl = objectParameters.ACL ?? defaultAcl;
    if (acl === "public-read" || acl === "public-read-write" || acl === "authenticated-read") return true;
    // x-amz-grant-* values: `uri="http://acs.amazonaws.com/groups/global/AllUsers", id="…"`
    const everyone = /acs\.amazonaws\.com\/groups\/global\/(?:AllUsers|AuthenticatedUsers)\b/i;
    return [objectParameters.GrantRead, objectParameters.GrantFullControl, objectParameters.GrantWriteACP].some(
      (grant) => typeof grant === "string" && everyone.test(grant),
    );
  }

  /** The validated options, defaults filled in. */
  get settings(): ResolvedS3Options {
    return this.#options;
  }

  /** The SDK client, for advanced use (commands this library does not wrap). */
  get client(): S3Client {
    return this.#client;
  }

  #label(): string {
    return `the S3 storage of bucket "${this.#options.bucketName}"`;
  }

  #objectKey(key: string): string {
    return this.#options.keyPrefix + key;
  }

  /**
   * Resolves credentials (through the client's provider chain) and, when the options did not say,
   * the client's endpoint and region, so `url()` can stay synchronous. Sends nothing to S3.
   */
  async ready(): Promise<void> {
    if (this.#ready === null) {
      this.#ready = this.#resolve().catch((error) => {
        this.#ready = null;
        throw error;
      });
    }
    await this.#ready;
    // Cheap when cached; re-resolves temporary credentials that are about to expire.
    if (this.#urls.signs) await this.#credentials.ready();
  }

  async #resolve(): Promise<void> {
    if (this.#urls.signs) await this.#credentials.ready();
    // Always, even when the options seemed to decide it (only the SDK reads a profile's endpoint_url),
    // except for an injected client whose URLs the options shape on purpose.
    if (this.#urls.usesEndpoint && !this.#urlsFromOptions)
      this.#urls.configure(await clientUrlBase(this.#client, this.#options));
  }

  async write(key: string, body: DriverBody, options: DriverWriteOptions): Promise<DriverWriteResult> {
    // The first save also resolves what url() needs, as the issue promises; its failure surfaces in ready().
    if (this.#ready === null) this.ready().catch(() => undefined);
    return this.#uploader.write(key, body, options);
  }

  /**
   * Streams the object (or `range` of it). A gzipped object (`Content-Encoding: gzip`) is decompressed,
   * so readers get the bytes that were saved; a range of one is cut from the decompressed stream,
   * which costs a second GET of the whole object (S3 ranges count stored, compressed bytes).
   */
  async open(key: string, range?: ByteRange): Promise<Readable | null> {
    const Range = range ? `bytes=${range.start}-${range.end ?? ""}` : undefined;
    let result: GetObjectCommandOutput | null;
    try {
      result = await this.#get(key, Range);
    } catch (error) {
      // A range past the stored (compressed) bytes of a gzipped object may still be inside its original bytes.
      if (status(error) !== 416) throw error;
      const whole = await this.#get(key, undefined);
      if (whole === null) return null;
      if (isGzipEncoded(whole.ContentEncoding)) return gunzipBody(whole.Body as Readable, range);
      (whole.Body as Readable).destroy();
      // a range that starts at or past the end holds no bytes, as on disk and in memory
      return Readable.from([]);
    }
    if (result === null) return null;
    const body = result.Body as Readable;
    if (!isGzipEncoded(result.ContentEncoding)) {
      if (range === undefined) return body;
      // HTTP lets a server send more than the range asked (a 200 with the whole object; s3rver answers
      // `bytes=0-0` with all of it): the range is cut from what came, never other bytes handed over
      const start = contentRangeStart(result.ContentRange);
      if (start === null || start > range.start) {
        body.destroy();
        throw new Error(`Asked for ${Range}, the server sent ${result.ContentRange}.`);
      }
      // the usual answer, no more than the range from its start: handed over as it came
      const asked = range.end === undefined ? Number.POSITIVE_INFINITY : range.end - range.start + 1;
      if (start === range.start && (result.ContentLength ?? Number.POSITIVE_INFINITY) <= asked) return body;
      return pipeline(body, sliceRange(range, start), () => undefined);
    }
    if (range === undefined) return gunzipBody(body);
    body.destroy();
    const whole = await this.#get(key, undefined);
    return whole === null ? null : gunzipBody(whole.Body as Readable, range);
  }

  async #get(key: string, Range: string | undefined, IfMatch?: string): Promise<GetObjectCommandOutput | null> {
    try {
      return await this.#client.send(
        new awsSdk.clientS3.GetObjectCommand({
          ...readParameters(this.#parametersFor(key)),
          Bucket: this.#options.bucketName,
          Key: this.#objectKey(key),
          Range,
          IfMatch,
        }),
      );
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /**
   * `size` is the original byte count, what `open()` gives: gzipped objects carry it in metadata
   * (django-s3-storage's key); those written without it (django-storages, bytes saved gzipped under a
   * preset ContentEncoding) give it in their gzip trailer, read with a second, 4-byte GET.
   */
  async stat(key: string): Promise<ObjectStat | null> {
    try {
      const head = await this.#head(key);
      const stored = head.ContentLength ?? 0;
      let size = stored;
      if (isGzipEncoded(head.ContentEncoding)) {
        const recorded = uncompressedSize(head.Metadata);
        const original = Number.isSafeInteger(recorded)
          ? recorded
          : await this.#gzipTrailerSize(key, stored, head.ETag);
        if (original === undefined) return null; // deleted between the two requests
        if (original !== null) size = original;
      }
      return {
        size,
        storedSize: stored,
        contentType: head.ContentType ?? null,
        lastModified: head.LastModified ?? new Date(0),
        etag: normalizeEtag(head.ETag),
        contentEncoding: head.ContentEncoding ?? null,
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** One HEAD: `exists()` and the taken-name check of a save need no size, so no gzip trailer is read. */
  async exists(key: string): Promise<boolean> {
    try {
      await this.#head(key);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  #head(key: string): Promise<HeadObjectCommandOutput> {
    return this.#client.send(
      new awsSdk.clientS3.HeadObjectCommand({
        ...readParameters(this.#parametersFor(key)),
        Bucket: this.#options.bucketName,
        Key: this.#objectKey(key),
      }),
    );
  }

  /**
   * The original size of the gzipped object `key` of `stored` bytes, from the ISIZE field of its gzip
   * trailer (`gzipTrailerSize`); null when the trailer cannot tell, undefined when the object is gone.
   */
  async #gzipTrailerSize(key: string, stored: number, etag: string | undefined): Promise<number | null | undefined> {
    if (!gzipTrailerSizeIsExact(stored)) return null;
    let result: GetObjectCommandOutput | null;
    try {
      // the last 4 bytes of the object the HEAD saw (s3rver reads a suffix range `bytes=-4` as `0-4`)
      result = await this.#get(key, `bytes=${stored - 4}-${stored - 1}`, etag);
    } catch (error) {
      if (isPreconditionFailed(error)) return null; // replaced since: its trailer says nothing of this size
      throw error;
    }
    if (result === null) return undefined;
    // the last 4 bytes of what came: a server that ignores ranges sends the whole object
    let tail = Buffer.alloc(0);
    for await (const chunk of result.Body as Readable) tail = Buffer.concat([tail, chunk as Buffer]).subarray(-4);
    return tail.length === 4 ? tail.readUInt32LE(0) : null;
  }

  async delete(key: string): Promise<void> {
    const read = readParameters(this.#parametersFor(key));
    await this.#client.send(
      new awsSdk.clientS3.DeleteObjectCommand({
        Bucket: this.#options.bucketName,
        Key: this.#objectKey(key),
        RequestPayer: read?.RequestPayer,
        ExpectedBucketOwner: read?.ExpectedBucketOwner,
      }),
    );
  }

  async list(prefix: string): Promise<ListResult> {
    const full = this.#objectKey(prefix);
    const directories: string[] = [];
    const files: string[] = [];
    for await (const page of this.#listPages(full, "/")) {
      for (const common of page.CommonPrefixes ?? []) {
        const name = (common.Prefix ?? "").slice(full.length).replace(/\/$/, "");
        if (name !== "") directories.push(name);
      }
      for (const object of page.Contents ?? []) {
        const name = (object.Key ?? "").slice(full.length);
        if (name !== "") files.push(name);
      }
    }
    return { directories, files };
  }

  /**
   * Every object under `prefix`, from one paginated listing (no HEAD per object). The ETag is the MD5
   * of the stored bytes only for an object written in one request without KMS or a customer key.
   */
  async listAll(prefix: string): Promise<StoredObject[]> {
    const found: StoredObject[] = [];
    const keyPrefix = this.#options.keyPrefix;
    for await (const page of this.#listPages(this.#objectKey(prefix))) {
      for (const object of page.Contents ?? []) {
        const name = (object.Key ?? "").slice(keyPrefix.length);
        // "folder" placeholders made by consoles are not objects a key can name
        if (name === "" || name.endsWith("/")) continue;
        const etag = (object.ETag ?? "").replace(/"/g, "");
        const params = /^[0-9a-f]{32}$/.test(etag) ? this.#parametersFor(name) : null;
        const md5 =
          params && !String(params.ServerSideEncryption ?? "").startsWith("aws:kms") && !params.SSECustomerKey
            ? etag
            : null;
        found.push({ name, storedSize: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0), md5 });
      }
    }
    return found;
  }

  /**
   * ListObjectsV2 pages under the full key `prefix`, with the storage-wide payer and owner settings;
   * keys URL-encoded on the wire (`listObjectsPage`).
   */
  async *#listPages(prefix: string, delimiter?: string): AsyncGenerator<ListObjectsV2CommandOutput> {
    // a listing has no object: the storage-wide objectParameters say who pays and who must own the bucket
    const { RequestPayer, ExpectedBucketOwner } = this.#options.objectParameters;
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await listObjectsPage(this.#client, {
        Bucket: this.#options.bucketName,
        Prefix: prefix,
        Delimiter: delimiter,
        ContinuationToken: token,
        RequestPayer,
        ExpectedBucketOwner,
      });
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  url(key: string, options: UrlOptions): string {
    return this.#urls.url(this.#objectKey(key), options, () => this.#credentials.current(this.#label()), this.#label());
  }

  /**
   * A presigned PUT carrying every header a `save()` of the object would set (ACL, cache, encryption,
   * metadata, tags, type, disposition), plus `If-None-Match: *` unless overwriting, all signed with the
   * `Content-Length`: S3 refuses a request that drops or changes one, a body of another size, and (with
   * conditional writes) a name taken since. Resolves credentials first; makes no request to S3.
   */
  async presignUpload(key: string, options: DriverUploadOptions): Promise<DriverUploadRequest> {
    await this.ready();
    const creds = await this.#credentials.ready();
    const params = this.#uploadParameters(key, options);
    const headers = putObjectHeaders(params, this.#label());
    if (!options.overwrite) headers["if-none-match"] = "*";
    const { url, expiresAt } = this.#urls.uploadUrl(
      this.#objectKey(key),
      { ...headers, "content-length": String(options.size) },
      options.expiresIn,
      creds,
      this.#label(),
    );
    return { url, method: "PUT", headers, expiresAt };
  }

  /**
   * What a save of `key` would send (the storage's settings, the upload's type and disposition), plus
   * the `pendingUploadTag` a direct upload carries until it is attached.
   */
  #uploadParameters(key: string, options: DriverUploadOptions): S3ObjectParameters {
    const params: S3ObjectParameters = { ...this.#parametersFor(key), ContentType: options.contentType };
    if (options.contentDisposition !== null) params.ContentDisposition = options.contentDisposition;
    const pending = this.#options.pendingUploadTag;
    if (pending !== undefined) {
      const own = parseTagging(params.Tagging);
      if (own.some((tag) => tag.Key === pending.key) || own.length >= 10)
        throw new StorageConfigError(
          `${this.#label()} tags direct uploads with ${pending.key}=${pending.value} (pendingUploadTag), but the ` +
            `object's own tags already ${own.length >= 10 ? "number 10, S3's limit" : `use the key "${pending.key}"`}: ` +
            "choose another pendingUploadTag.",
        );
      const tag = `${encodeURIComponent(pending.key)}=${encodeURIComponent(pending.value)}`;
      params.Tagging = params.Tagging ? `${params.Tagging}&${tag}` : tag;
    }
    return params;
  }

  /**
   * Begins the multipart upload here, with every header a save would send (so nothing about the object
   * is left to the client), and presigns one UploadPart URL per part, each signing its part's size.
   * A customer-provided key (SSE-C) would have to go with every part: refused (`StorageConfigError`).
   */
  async presignMultipartUpload(key: string, options: DriverMultipartOptions): Promise<DriverMultipartUpload> {
    await this.ready();
    // the parts are signed with these: resolved before an upload is begun that could not be signed
    await this.#credentials.ready();
    const params = this.#uploadParameters(key, options);
    // checks the settings as for a single PUT (SSE-C, non-ASCII values) before anything is begun
    putObjectHeaders(params, this.#label());
    const Key = this.#objectKey(key);
    const { UploadId } = await this.#client.send(
      new awsSdk.clientS3.CreateMultipartUploadCommand({ ...params, Bucket: this.#options.bucketName, Key }),
    );
    if (!UploadId) throw new Error("CreateMultipartUpload answered without an UploadId.");
    const numbers = Array.from({ length: Math.max(1, Math.ceil(options.size / options.partSize)) }, (_, i) => i + 1);
    const { parts, expiresAt } = await this.presignUploadParts(key, UploadId, { ...options, partNumbers: numbers });
    return { uploadId: UploadId, contentEncoding: params.ContentEncoding ?? null, parts, expiresAt };
  }

  /**
   * Presigns the UploadPart URLs `options.partNumbers` of a multipart upload of `options.size` bytes in
   * parts of `options.partSize`, each signing its part's size, and the payer and bucket-owner headers
   * every request of the upload repeats. No request to S3.
   */
  async presignUploadParts(
    key: string,
    uploadId: string,
    options: { size: number; partSize: number; partNumbers: readonly number[]; expiresIn: number },
  ): Promise<{ parts: UploadPart[]; expiresAt: Date }> {
    await this.ready();
    const creds = await this.#credentials.ready();
    const { RequestPayer, ExpectedBucketOwner } = this.#parametersFor(key);
    const headers: Record<string, string> = {};
    if (RequestPayer) headers["x-amz-request-payer"] = RequestPayer;
    if (ExpectedBucketOwner) headers["x-amz-expected-bucket-owner"] = ExpectedBucketOwner;
    const parts: UploadPart[] = [];
    let expiresAt = new Date(8.64e15);
    for (const partNumber of options.partNumbers) {
      const size = Math.max(0, Math.min(options.partSize, options.size - (partNumber - 1) * options.partSize));
      const signed = this.#urls.uploadUrl(
        this.#objectKey(key),
        { ...headers, "content-length": String(size) },
        options.expiresIn,
        creds,
        this.#label(),
        { partNumber: String(partNumber), uploadId },
      );
      parts.push({ partNumber, url: signed.url, size, headers: { ...headers } });
      if (signed.expiresAt < expiresAt) expiresAt = signed.expiresAt;
    }
    return { parts, expiresAt };
  }

  async completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: UploadedPart[],
    overwrite: boolean,
  ): Promise<void> {
    const { ExpectedBucketOwner, RequestPayer } = this.#parametersFor(key);
    await this.#client.send(
      new awsSdk.clientS3.CompleteMultipartUploadCommand({
        Bucket: this.#options.bucketName,
        Key: this.#objectKey(key),
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map(({ partNumber, etag }) => ({ PartNumber: partNumber, ETag: etag })) },
        IfNoneMatch: overwrite ? undefined : "*",
        ExpectedBucketOwner,
        RequestPayer,
      }),
    );
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    const { ExpectedBucketOwner, RequestPayer } = this.#parametersFor(key);
    try {
      await this.#client.send(
        new awsSdk.clientS3.AbortMultipartUploadCommand({
          Bucket: this.#options.bucketName,
          Key: this.#objectKey(key),
          UploadId: uploadId,
          ExpectedBucketOwner,
          RequestPayer,
        }),
      );
    } catch (error) {
      if ((error as { name?: string })?.name !== "NoSuchUpload" && status(error) !== 404) throw error;
    }
  }

  /**
   * Makes a direct upload permanent: with `pendingUploadTag`, puts back the tags the storage's settings
   * give the object (PutObjectTagging; none when they set none), so no lifecycle rule on the pending tag
   * expires it; with `pending`, adds the pending tag back (a row that was to hold it did not commit).
   * Without the option, nothing to do.
   */
  async confirmUpload(key: string, pending = false): Promise<void> {
    const tag = this.#options.pendingUploadTag;
    if (tag === undefined) return;
    const { Tagging, ExpectedBucketOwner, RequestPayer } = this.#parametersFor(key);
    const TagSet = parseTagging(Tagging);
    if (pending) TagSet.push({ Key: tag.key, Value: tag.value });
    // one PutObjectTagging, with no tags when the storage sets none (s3:PutObjectTagging only)
    await this.#client.send(
      new awsSdk.clientS3.PutObjectTaggingCommand({
        Bucket: this.#options.bucketName,
        Key: this.#objectKey(key),
        ExpectedBucketOwner,
        RequestPayer,
        Tagging: { TagSet },
      }),
    );
  }

  configuredContentType(key: string): string | undefined {
    return this.#parametersFor(key).ContentType;
  }

  explain(error: unknown, operation: StorageOperation): string | null {
    return explainS3Failure(error, operation, this.#options);
  }

  async close(): Promise<void> {
    this.#credentials.close();
    if (this.#ownsClient) this.#client.destroy();
  }
}

import type { HeadObjectCommandOutput, ListObjectsV2CommandOutput } from "@aws-sdk/client-s3";
import { awsSdk } from "../drivers/s3/awsSdk";
import { copyInParts } from "../drivers/s3/copyInParts";
import { isMissingObject } from "../drivers/s3/isMissingObject";
import { listObjectsPage } from "../drivers/s3/listObjectsPage";
import { planMetadataUpdate, type S3HeaderChange } from "../drivers/s3/planMetadataUpdate";
import { readParameters } from "../drivers/s3/readParameters";
import { StorageConfigError } from "../errors/StorageConfigError";
import { encodeKeyPath } from "../http/encodeKeyPath";
import type { S3Storage } from "./S3Storage";
import type { Storage } from "./Storage";
import { listFailure, syncFailureReason } from "./syncFailureReason";
import { type SyncProbeFailure, syncStop, syncStopReason } from "./syncStop";

export type { S3HeaderChange };

/** Objects examined in parallel unless `concurrency` says otherwise. */
export const DEFAULT_SYNC_CONCURRENCY = 16;

/** CopyObject copies at most 5 GiB; larger objects are copied in parts (UploadPartCopy). */
export const MAX_COPY_OBJECT_SIZE = 5 * 1024 ** 3;

/** Options of `syncMetadata`. */
export interface SyncMetadataOptions {
  /** Work out and report the changes, write nothing (default false). */
  dryRun?: boolean;
  /** Objects examined and rewritten in parallel (default 16). */
  concurrency?: number;
  /** Called after each listed page and each examined object with the running counts. */
  onProgress?: (progress: SyncMetadataProgress) => void;
  /** Called once per examined object with its outcome and the header changes (made, or that would be made). */
  onObject?: (result: SyncMetadataObjectResult) => void;
  /** Stops listing and starting objects; those in flight finish and the summary says `aborted`. */
  signal?: AbortSignal;
  /**
   * Objects larger than this many bytes are rewritten with a multipart copy (UploadPartCopy, in parts of
   * the storage's `multipartChunksize`, `maxConcurrency` at a time) instead of one CopyObject. Default
   * and maximum 5 GiB, the most CopyObject copies; at least 5 MiB.
   */
  multipartCopyThreshold?: number;
}

/** Running counts; `updated` counts the objects that would be updated in a dry run. */
export interface SyncMetadataCounts {
  examined: number;
  updated: number;
  unchanged: number;
  /** Listed, then deleted before they could be examined or rewritten. */
  missing: number;
  failed: number;
}

export interface SyncMetadataProgress extends SyncMetadataCounts {
  /** Objects listed so far; the total once `listingComplete`. */
  listed: number;
  listingComplete: boolean;
}

/** One object that could not be examined or rewritten, and why. */
export interface SyncMetadataFailure {
  key: string;
  /** What went wrong and what to do, in words. */
  reason: string;
  /** The SDK's error, or the reason again when sync-meta itself declined the object. */
  error: unknown;
}

export interface SyncMetadataObjectResult {
  /** The key relative to the storage's location (what `storage.open()` takes). */
  key: string;
  status: "updated" | "unchanged" | "missing" | "failed";
  changes: S3HeaderChange[];
  reason?: string;
}

export interface SyncMetadataSummary extends SyncMetadataCounts {
  dryRun: boolean;
  bucket: string;
  /** The listed prefix inside the bucket: the storage's location plus the `prefix` argument. */
  prefix: string;
  failures: SyncMetadataFailure[];
  /** True when `signal` stopped the run before every object was examined. */
  aborted: boolean;
  /**
   * Why the run stopped before the end, when an object's failure proved to be the whole run's (refused
   * or expired credentials, a failing credential provider, a bucket it may no longer list): its message
   * says what to fix; `cause` is the SDK's error. Null when the run went through.
   */
  stopped: StorageConfigError | null;
  /** The listed objects the run never started because it `stopped` (relative keys, in listing order). */
  notAttempted: string[];
}

function isS3Storage(storage: Storage): storage is S3Storage {
  // Duck-typed as well as instanceof: a config module may load its own copy of this package.
  const candidate = storage as Partial<S3Storage> | null;
  return (
    candidate?.driver?.kind === "s3" &&
    typeof candidate.getObjectParameters === "function" &&
    candidate.client !== undefined &&
    candidate.settings !== undefined
  );
}

/**
 * Rewrites the headers of the objects under `prefix` (relative to the storage's location) to what the
 * storage gives new objects now (django-s3-storage's `s3_sync_meta`): lists once (ListObjectsV2 without
 * delimiter), HEADs each object, and for those that differ sends CopyObject onto itself with
 * `MetadataDirective: REPLACE` (tags kept, conditional on the ETag seen by HEAD). See
 * `planMetadataUpdate` for what is kept per object. An ACL cannot be read by HEAD, so with an ACL
 * configured every object is rewritten; without one, a rewritten object gets the bucket's default ACL,
 * as CopyObject does not copy ACLs. Objects over 5 GiB (`multipartCopyThreshold`) are copied in parts
 * onto themselves (`copyInParts`), their tags carried over.
 * Resolves with the summary; failures of single objects are counted there, never thrown. After an object
 * fails, it asks the credential provider and lists one key of the bucket: when either is refused (see
 * `syncStopReason`), the failure is the whole run's, not the object's (a 403 of HEAD has no error code to
 * tell an expired token from an object's ACL), so it starts no more objects, lets those in flight finish,
 * and reports `stopped` and the objects `notAttempted` instead of failing each of them. Throws
 * `StorageConfigError` for a storage that is not on S3, a bad `concurrency`, or a bucket it may not list
 * (naming `s3:ListBucket`), and `StorageOperationError` when listing fails otherwise.
 */
export async function syncMetadata(
  storage: S3Storage,
  prefix = "",
  options: SyncMetadataOptions = {},
): Promise<SyncMetadataSummary> {
  const name = (storage as Storage | null)?.name ?? null;
  if (!isS3Storage(storage)) {
    const label = name ? `storage "${name}"` : "this storage";
    const kind = (storage as Storage | null)?.driver?.kind ?? typeof storage;
    throw new StorageConfigError(
      `sync-meta rewrites the headers of S3 objects, but ${label} is a ${kind} storage, which stores no ` +
        "per-object headers. Name a storage built with S3Storage.",
      { storage: name },
    );
  }
  const concurrency = options.concurrency ?? DEFAULT_SYNC_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) {
    throw new StorageConfigError(`concurrency must be an integer from 1 to 1000, got ${String(concurrency)}.`);
  }
  const threshold = options.multipartCopyThreshold ?? MAX_COPY_OBJECT_SIZE;
  if (!Number.isInteger(threshold) || threshold < 5 * 1024 ** 2 || threshold > MAX_COPY_OBJECT_SIZE) {
    throw new StorageConfigError(
      `multipartCopyThreshold must be a whole number of bytes from 5 MiB to 5 GiB, got ${String(threshold)}.`,
    );
  }
  const { client, settings } = storage;
  const bucket = settings.bucketName;
  const listPrefix = settings.keyPrefix + prefix.replace(/^\/+/, "");
  const dryRun = options.dryRun ?? false;
  const summary: SyncMetadataSummary = {
    dryRun,
    bucket,
    prefix: listPrefix,
    examined: 0,
    updated: 0,
    unchanged: 0,
    missing: 0,
    failed: 0,
    failures: [],
    aborted: false,
    stopped: null,
    notAttempted: [],
  };
  /** Listed keys not handed to a worker yet. */
  const queue: string[] = [];
  /** What showed an object's failure to be the whole run's; once set, no object is started. */
  let stop: SyncProbeFailure | null = null;
  let probing: Promise<SyncProbeFailure | null> | null = null;
  let listed = 0;
  let listingComplete = false;
  const progress = () =>
    options.onProgress?.({
      listed,
      listingComplete,
      examined: summary.examined,
      updated: summary.updated,
      unchanged: summary.unchanged,
      missing: summary.missing,
      failed: summary.failed,
    });

  async function* objectKeys(): AsyncGenerator<string> {
    let page: Promise<ListObjectsV2CommandOutput> | null = listPage(undefined);
    while (page !== null) {
      const current: ListObjectsV2CommandOutput = await page;
      const token = current.IsTruncated ? current.NextContinuationToken : undefined;
      // Fetch the next page while this one is worked on; its failure surfaces when it is awaited.
      page = token ? listPage(token) : null;
      page?.catch(() => undefined);
      // "folder" placeholders made by consoles (`dir/`) are no files, as in listAll: left out
      const keys = (current.Contents ?? []).map((object) => object.Key as string).filter((key) => !key.endsWith("/"));
      listed += keys.length;
      listingComplete = page === null;
      queue.push(...keys);
      progress();
      while (queue.length > 0) yield queue.shift() as string;
    }
  }

  function listPage(token: string | undefined): Promise<ListObjectsV2CommandOutput> {
    const { RequestPayer, ExpectedBucketOwner } = settings.objectParameters;
    return listObjectsPage(client, {
      Bucket: bucket,
      Prefix: listPrefix,
      ContinuationToken: token,
      RequestPayer,
      ExpectedBucketOwner,
    });
  }

  function record(
    key: string,
    status: SyncMetadataObjectResult["status"],
    changes: S3HeaderChange[],
    error?: unknown,
    stoppedBy?: SyncProbeFailure | null,
  ) {
    summary.examined++;
    summary[status]++;
    let reason: string | undefined;
    if (status === "failed") {
      const why = stoppedBy ? syncStopReason(stoppedBy, bucket, listPrefix) : null;
      reason =
        why !== null
          ? `${why}; sync-meta stopped here`
          : typeof error === "string"
            ? error
            : syncFailureReason(error, bucket);
      summary.failures.push({ key, reason, error });
    }
    options.onObject?.({ key, status, changes, ...(reason === undefined ? {} : { reason }) });
    progress();
  }

  async function examine(objectKey: string): Promise<void> {
    const key = objectKey.slice(settings.keyPrefix.length);
    const outcome = await rewrite(objectKey, key);
    const stoppedBy = outcome.status === "failed" ? await stopFor() : null;
    record(key, outcome.status, outcome.changes, outcome.error, stoppedBy);
  }

  /**
   * After an object failed: what shows the failure to be the whole run's (`syncStopReason`), if
   * anything, from the credential provider and a listing of one key; failures meanwhile share the answer.
   */
  async function stopFor(): Promise<SyncProbeFailure | null> {
    if (stop !== null) return stop;
    probing ??= probe().finally(() => {
      probing = null;
    });
    const failure = await probing;
    if (failure !== null && syncStopReason(failure, bucket, listPrefix) !== null) stop ??= failure;
    return stop;
  }

  async function probe(): Promise<SyncProbeFailure | null> {
    try {
      // a refresh that fails surfaces here with the provider's own error, whatever it is
      await client.config.credentials();
    } catch (error) {
      return { during: "credentials", error };
    }
    const { RequestPayer, ExpectedBucketOwner } = settings.objectParameters;
    try {
      // unlike HEAD's bare 403, a listing's error carries S3's code: ExpiredToken, InvalidAccessKeyId, ...
      await listObjectsPage(client, {
        Bucket: bucket,
        Prefix: listPrefix,
        MaxKeys: 1,
        RequestPayer,
        ExpectedBucketOwner,
      });
    } catch (error) {
      return { during: "listing", error };
    }
    return null;
  }

  /** HEAD, plan, copy; never throws (callbacks run in `record`, outside, so they cannot count twice). */
  async function rewrite(
    objectKey: string,
    key: string,
  ): Promise<{ status: SyncMetadataObjectResult["status"]; changes: S3HeaderChange[]; error?: unknown }> {
    let changes: S3HeaderChange[] = [];
    try {
      const parameters = storage.getObjectParameters(key);
      // An SSE-C object can only be read, and copied, with its key (and a requester-pays bucket only by a payer).
      const read = readParameters(parameters);
      const head: HeadObjectCommandOutput = await client.send(
        new awsSdk.clientS3.HeadObjectCommand({ ...read, Bucket: bucket, Key: objectKey }),
      );
      const plan = planMetadataUpdate(key, head, parameters, settings);
      changes = plan.changes;
      if (changes.length === 0) return { status: "unchanged", changes };
      if (!dryRun && (head.ContentLength ?? 0) > threshold) {
        await copyInParts(client, {
          bucket,
          key: objectKey,
          size: head.ContentLength ?? 0,
          etag: head.ETag as string,
          headers: plan.headers,
          read,
          partSize: settings.multipartChunksize,
          concurrency: settings.maxConcurrency,
        });
      } else if (!dryRun) {
        await client.send(
          new awsSdk.clientS3.CopyObjectCommand({
            ...plan.headers,
            Bucket: bucket,
            Key: objectKey,
            CopySource: `${bucket}/${encodeKeyPath(objectKey)}`,
            // Only if the bytes are still those HEAD described: their Content-Type went into the plan.
            CopySourceIfMatch: head.ETag,
            MetadataDirective: "REPLACE",
            CopySourceSSECustomerAlgorithm: read?.SSECustomerAlgorithm,
            CopySourceSSECustomerKey: read?.SSECustomerKey,
            CopySourceSSECustomerKeyMD5: read?.SSECustomerKeyMD5,
            RequestPayer: read?.RequestPayer,
            ExpectedBucketOwner: read?.ExpectedBucketOwner,
            ExpectedSourceBucketOwner: read?.ExpectedBucketOwner,
          }),
        );
      }
      return { status: "updated", changes };
    } catch (error) {
      return isMissingObject(error) ? { status: "missing", changes } : { status: "failed", changes, error };
    }
  }

  const keys = objectKeys();
  let listError: unknown = null;
  async function worker(): Promise<void> {
    while (!options.signal?.aborted && stop === null) {
      let next: IteratorResult<string>;
      try {
        next = await keys.next();
      } catch (error) {
        listError ??= error;
        return;
      }
      if (next.done) return;
      if (stop !== null) {
        queue.unshift(next.value); // the run stopped while this worker waited for the listing
        return;
      }
      await examine(next.value);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (options.signal?.aborted || stop !== null) {
    summary.aborted = options.signal?.aborted === true && (!listingComplete || summary.examined < listed);
    await keys.return(undefined).catch(() => undefined);
  }
  if (stop !== null) {
    summary.notAttempted = queue.map((objectKey) => objectKey.slice(settings.keyPrefix.length));
    summary.stopped = syncStop(stop, {
      storage: storage.name,
      bucket,
      prefix: listPrefix,
      examined: summary.examined,
      notAttempted: queue.length,
      listingComplete,
    });
    return summary; // a listing that failed meanwhile failed for the same reason, most likely
  }
  if (listError !== null) throw listFailure(listError, storage.name, bucket, listPrefix, summary.examined);
  return summary;
}

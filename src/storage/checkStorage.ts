import { randomBytes } from "node:crypto";
import { access, stat } from "node:fs/promises";
import type { LifecycleRule, S3Client } from "@aws-sdk/client-s3";
import { awsSdk } from "../drivers/s3/awsSdk";
import { s3UrlMode } from "../drivers/s3/s3UrlMode";
import { FileSystemStorage } from "./FileSystemStorage";
import { InMemoryStorage } from "./InMemoryStorage";
import { S3Storage } from "./S3Storage";
import type { Storage } from "./Storage";

/** `ok`; `warning` (works, but mind this); `failed` (will fail, or is unsafe); `unknown` (could not tell). */
export type StorageCheckStatus = "ok" | "warning" | "failed" | "unknown";

/** One finding of `checkStorage`: what was checked, how it went, and what to do, in words. */
export interface StorageCheck {
  check: string;
  status: StorageCheckStatus;
  detail: string;
}

export interface CheckStorageOptions {
  /**
   * Also write, read, fetch by URL and delete a small probe object (`.typeorm-storages-check/…`): the
   * only way to know that uploads, permissions and the URLs browsers get really work. Default false.
   */
  write?: boolean;
  /** The `fetch` used for URLs (default the global one), e.g. with a proxy. */
  fetch?: typeof fetch;
  /**
   * The origin of the site whose pages will send direct uploads (`https://example.com`): on S3, a CORS
   * preflight for an upload URL checks that the bucket lets those pages PUT (browsers refuse otherwise).
   * With `write`, a probe is also uploaded through a signed upload URL. Default: not checked.
   */
  origin?: string;
}

const PROBE = "typeorm-storages check";

/**
 * Checks a storage's configuration against the real backend, before users find out: on S3 that the
 * bucket answers, that listing is allowed, that a configured ACL is not sent to a bucket that refuses
 * ACLs, and (with `write`) that a probe object can be written, read and deleted, that public URLs load
 * and that private objects do not load without a signature. URLs are fetched from this machine,
 * which may reach hosts your users' browsers do not, and the reverse. Never throws: every problem is a
 * finding.
 */
export async function checkStorage(storage: Storage, options: CheckStorageOptions = {}): Promise<StorageCheck[]> {
  const found: StorageCheck[] = [];
  const note = (check: string, status: StorageCheckStatus, detail: string) => found.push({ check, status, detail });
  try {
    if (storage instanceof S3Storage) {
      if (!(await checkBucket(storage, note))) return found;
    } else if (storage instanceof FileSystemStorage) {
      await checkDirectory(storage, note);
    } else if (storage instanceof InMemoryStorage) {
      note("memory", "warning", "objects live in this process only and are lost when it exits: for tests.");
    }
    if (options.write) await probe(storage, options.fetch ?? fetch, note);
    if (options.origin !== undefined) await checkDirectUploads(storage, options, note);
  } catch (error) {
    note("check", "unknown", `the check itself failed: ${describe(error)}`);
  }
  return found;
}

type Note = (check: string, status: StorageCheckStatus, detail: string) => void;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function explained(storage: Storage, error: unknown, operation: "list" | "stat"): string {
  const advice = storage.driver.explain?.(error, operation);
  const message =
    (error as Error)?.message && (error as Error).message !== "UnknownError" ? (error as Error).message : "";
  const name = (error as Error)?.name ?? "error";
  return [`${name}${message ? `: ${message}` : ""}`, advice].filter(Boolean).join(". ");
}

/** Bucket, listing and ACL checks; false when the bucket cannot be reached (nothing else can be checked). */
async function checkBucket(storage: S3Storage, note: Note): Promise<boolean> {
  const client: S3Client = storage.client;
  const { bucketName: Bucket, keyPrefix, objectParameters, defaultAcl } = storage.settings;
  const { ExpectedBucketOwner, RequestPayer } = objectParameters;
  try {
    await storage.ready();
    await client.send(new awsSdk.clientS3.HeadBucketCommand({ Bucket, ExpectedBucketOwner }));
    note("bucket", "ok", `bucket "${Bucket}" answers.`);
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
    const where = storage.settings.endpointUrl?.origin ?? "AWS";
    const detail =
      status === 404
        ? `bucket "${Bucket}" does not exist at ${where}. Check bucketName (AWS_STORAGE_BUCKET_NAME) and endpointUrl ` +
          "(AWS_S3_ENDPOINT_URL), or create the bucket."
        : status === 403
          ? `bucket "${Bucket}" refuses these credentials (HeadBucket needs s3:ListBucket), or belongs to another ` +
            "account than ExpectedBucketOwner."
          : `bucket "${Bucket}": ${explained(storage, error, "stat")}`;
    note("bucket", "failed", detail);
    return false;
  }
  try {
    await client.send(
      new awsSdk.clientS3.ListObjectsV2Command({
        Bucket,
        Prefix: keyPrefix,
        MaxKeys: 1,
        ExpectedBucketOwner,
        RequestPayer,
      }),
    );
    note("list", "ok", `listing "${keyPrefix || "/"}" is allowed.`);
  } catch (error) {
    note(
      "list",
      "failed",
      `listing is refused (${explained(storage, error, "list")}). Without s3:ListBucket, S3 answers 403 instead of ` +
        "404 for a missing object, so exists() throws instead of returning false, and listdir, collectstatic, " +
        "sync-meta and orphans cannot run. Allow s3:ListBucket on the bucket (a s3:prefix condition may limit it).",
    );
  }
  const acl = objectParameters.ACL ?? defaultAcl;
  if (acl !== undefined) {
    try {
      const controls = await client.send(
        new awsSdk.clientS3.GetBucketOwnershipControlsCommand({ Bucket, ExpectedBucketOwner }),
      );
      const ownership = controls.OwnershipControls?.Rules?.[0]?.ObjectOwnership;
      if (ownership === "BucketOwnerEnforced")
        note(
          "acl",
          "failed",
          `ACLs are disabled on "${Bucket}" (Object Ownership: bucket owner enforced), and this storage sends ` +
            `ACL "${acl}" with every upload, which S3 refuses (AccessControlListNotSupported). Remove defaultAcl ` +
            "(AWS_DEFAULT_ACL) and make public objects readable with a bucket policy.",
        );
      else note("acl", "ok", `the bucket accepts ACLs (Object Ownership: ${ownership ?? "not set"}).`);
    } catch (error) {
      if ((error as Error)?.name === "OwnershipControlsNotFoundError")
        note("acl", "ok", "the bucket has no Object Ownership setting: ACLs are accepted.");
      else
        note(
          "acl",
          "unknown",
          `could not read the bucket's Object Ownership (${describe(error)}); ACL "${acl}" is sent with every upload.`,
        );
    }
  }
  const pending = storage.settings.pendingUploadTag;
  if (pending !== undefined) await checkPendingRule(storage, pending, note);
  return true;
}

/**
 * With `pendingUploadTag`, a lifecycle rule must expire objects with that tag under the storage's
 * prefix; without one, uploads never attached stay until `orphans` sweeps them.
 */
async function checkPendingRule(storage: S3Storage, tag: { key: string; value: string }, note: Note): Promise<void> {
  const { bucketName: Bucket, keyPrefix, objectParameters } = storage.settings;
  const rule =
    `{"Rules":[{"ID":"expire-unattached-uploads","Status":"Enabled","Filter":{"Tag":{"Key":"${tag.key}",` +
    `"Value":"${tag.value}"}},"Expiration":{"Days":2}}]} (aws s3api put-bucket-lifecycle-configuration)`;
  let rules: LifecycleRule[];
  try {
    const answer = await storage.client.send(
      new awsSdk.clientS3.GetBucketLifecycleConfigurationCommand({
        Bucket,
        ExpectedBucketOwner: objectParameters.ExpectedBucketOwner,
      }),
    );
    rules = answer.Rules ?? [];
  } catch (error) {
    if ((error as Error)?.name !== "NoSuchLifecycleConfiguration") {
      note("lifecycle", "unknown", `could not read the bucket's lifecycle rules (${describe(error)}).`);
      return;
    }
    rules = [];
  }
  // a rule that matches every pending upload of this storage: the pending tag and nothing else (a
  // prefix the storage lies under at most), expiring them some days after they were written
  const expires = rules.some((r) => {
    if (r.Status !== "Enabled" || r.Expiration?.Days === undefined) return false;
    const filter = r.Filter;
    const and = filter?.And;
    if (filter?.ObjectSizeGreaterThan !== undefined || filter?.ObjectSizeLessThan !== undefined) return false;
    if (and?.ObjectSizeGreaterThan !== undefined || and?.ObjectSizeLessThan !== undefined) return false;
    const tags = filter?.Tag ? [filter.Tag] : (and?.Tags ?? []);
    const prefix = filter?.Prefix ?? and?.Prefix ?? r.Prefix ?? "";
    return tags.length === 1 && tags[0].Key === tag.key && tags[0].Value === tag.value && keyPrefix.startsWith(prefix);
  });
  if (expires) note("lifecycle", "ok", `a lifecycle rule expires direct uploads still tagged ${tag.key}=${tag.value}.`);
  else
    note(
      "lifecycle",
      "warning",
      `no enabled lifecycle rule expires objects tagged ${tag.key}=${tag.value} under "${keyPrefix || "/"}", so ` +
        `direct uploads never attached stay until typeorm-storages orphans sweeps them. Add one: ${rule}. Keep its ` +
        "days above the upload URLs' lifetime plus 6 hours.",
    );
}

async function checkDirectory(storage: FileSystemStorage, note: Note): Promise<void> {
  const info = await stat(storage.location).catch(() => null);
  if (info === null) note("location", "warning", `${storage.location} does not exist yet; the first save creates it.`);
  else if (!info.isDirectory()) note("location", "failed", `${storage.location} is not a directory.`);
  else
    await access(storage.location, 2 /* W_OK */).then(
      () => note("location", "ok", `${storage.location} is a writable directory.`),
      () => note("location", "failed", `${storage.location} is not writable by this process.`),
    );
  note(
    "urls",
    storage.querystringAuth ? "ok" : "warning",
    storage.querystringAuth
      ? `URLs under ${storage.baseUrl} are signed and expire; mount serveFiles(storage) to answer them.`
      : `URLs under ${storage.baseUrl} are public and unsigned; mount serveFiles(storage) (or a web server) there.`,
  );
}

/** Writes, reads, fetches and deletes a probe object; each step a finding. */
async function probe(storage: Storage, fetchUrl: typeof fetch, note: Note): Promise<void> {
  const key = `.typeorm-storages-check/${randomBytes(6).toString("hex")}.txt`;
  try {
    await storage.save(key, PROBE, { contentType: "text/plain" });
    note("write", "ok", `a probe object was written (${key}).`);
  } catch (error) {
    note("write", "failed", `uploads fail: ${describe(error)}`);
    return;
  }
  try {
    const read = (await storage.read(key)).toString();
    note(
      "read",
      read === PROBE ? "ok" : "failed",
      read === PROBE ? "it reads back." : "it reads back different bytes.",
    );
    if (storage instanceof S3Storage) await checkUrls(storage, key, fetchUrl, note);
  } catch (error) {
    note("read", "failed", `reads fail: ${describe(error)}`);
  } finally {
    await storage.delete(key).then(
      () => note("delete", "ok", "it was deleted."),
      (error: unknown) =>
        note("delete", "failed", `deletes fail, so replaced files are never removed: ${describe(error)}`),
    );
  }
}

async function status(fetchUrl: typeof fetch, url: string): Promise<number | string> {
  try {
    const response = await fetchUrl(url, { redirect: "manual" });
    await response.body?.cancel();
    return response.status;
  } catch (error) {
    return describe((error as { cause?: unknown })?.cause ?? error);
  }
}

async function checkUrls(storage: S3Storage, key: string, fetchUrl: typeof fetch, note: Note): Promise<void> {
  const mode = s3UrlMode(storage.settings);
  const url = storage.url(key);
  const got = await status(fetchUrl, url);
  const unreachable = (what: string) =>
    note(
      "url",
      "unknown",
      `${what} could not be fetched from this machine (${got}); browsers may still reach it: ${url}`,
    );
  if (typeof got === "string") return unreachable("the URL");
  if (mode === "presigned" || mode === "cloudFront") {
    if (got === 200) note("url", "ok", `${mode} URLs load (signature, clock and region agree).`);
    else note("url", "failed", `a ${mode} URL answered ${got}, so links to files will not load: ${url}`);
    if (mode !== "presigned") return;
    const unsigned = url.slice(0, url.indexOf("?"));
    const open = await status(fetchUrl, unsigned);
    if (open === 200)
      note(
        "private",
        "failed",
        `the object also loads without a signature (${unsigned}): a bucket policy or ACL makes this prefix public, ` +
          "or the server checks no signatures (s3rver). Private files would be readable by anyone with the key.",
      );
    else if (typeof open === "number") note("private", "ok", `without a signature it is refused (${open}).`);
    return;
  }
  if (got === 200) note("url", "ok", `public URLs load: ${url}`);
  else
    note(
      "url",
      "failed",
      `a public URL answered ${got}, so browsers cannot load public files: ${url}. Allow s3:GetObject to everyone ` +
        `on "${storage.settings.bucketName}/${storage.settings.keyPrefix}*" with a bucket policy, or set defaultAcl ` +
        '"public-read" on a bucket that accepts ACLs; or sign URLs (querystringAuth).',
    );
}

/**
 * Direct uploads from pages of `options.origin`: on S3, the bucket's answer to the CORS preflight a
 * browser sends before the PUT; with `write`, a real upload through a signed URL (from this machine,
 * where no CORS applies). On disk the URL is the storage's own `baseUrl`, answered by `serveFiles`.
 */
async function checkDirectUploads(storage: Storage, options: CheckStorageOptions, note: Note): Promise<void> {
  const fetchUrl = options.fetch ?? fetch;
  const origin = options.origin as string;
  const key = `.typeorm-storages-check/${randomBytes(6).toString("hex")}.txt`;
  let upload: Awaited<ReturnType<Storage["createUpload"]>>;
  try {
    upload = await storage.createUpload(key, { size: PROBE.length, contentType: "text/plain" });
  } catch (error) {
    note("direct upload", "failed", `upload URLs cannot be signed: ${describe(error)}`);
    return;
  }
  if (storage instanceof S3Storage) {
    // the probe's headers, and Content-Disposition, which uploads of html, svg and xml carry
    const headers = [
      ...new Set([...Object.keys(upload.headers).map((name) => name.toLowerCase()), "content-disposition"]),
    ];
    let answer: Response;
    try {
      answer = await fetchUrl(upload.url, {
        method: "OPTIONS",
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "PUT",
          "Access-Control-Request-Headers": headers.sort().join(","),
        },
      });
      await answer.body?.cancel();
    } catch (error) {
      note("cors", "unknown", `the upload URL could not be fetched from this machine (${describe(error)}).`);
      return;
    }
    const allowed = answer.headers.get("access-control-allow-origin");
    const methods = (answer.headers.get("access-control-allow-methods") ?? "").toUpperCase();
    if (answer.ok && (allowed === origin || allowed === "*") && /\bPUT\b/.test(methods))
      note("cors", "ok", `pages of ${origin} may PUT to the bucket (CORS preflight answered ${answer.status}).`);
    else
      note(
        "cors",
        "failed",
        `the bucket refuses the CORS preflight of a direct upload from ${origin} (${answer.status}), so browsers ` +
          "cannot send files to it. Give the bucket a CORS rule: " +
          `{"CORSRules":[{"AllowedOrigins":["${origin}"],"AllowedMethods":["PUT"],"AllowedHeaders":["*"],` +
          '"ExposeHeaders":["ETag"]}]} (aws s3api put-bucket-cors).',
      );
  } else if (storage instanceof FileSystemStorage) {
    const target = new URL(upload.url, origin).origin;
    note(
      "cors",
      target === new URL(origin).origin ? "ok" : "warning",
      target === new URL(origin).origin
        ? `upload URLs go to ${storage.baseUrl} on the site itself; mount serveFiles(storage) there.`
        : `upload URLs go to ${target}, another origin than ${origin}: its serveFiles needs CORS headers for PUT.`,
    );
  }
  if (!options.write || !(storage instanceof S3Storage)) return;
  try {
    // sent as from a page of the origin, so the answer shows what its scripts may read of it
    const sent = await fetchUrl(upload.url, {
      method: "PUT",
      headers: { ...upload.headers, Origin: origin },
      body: PROBE,
    });
    await sent.body?.cancel();
    if (sent.ok && (await storage.read(key)).toString() === PROBE)
      note("direct upload", "ok", "a probe was uploaded through a signed upload URL and reads back.");
    else note("direct upload", "failed", `a PUT to a signed upload URL answered ${sent.status}: ${upload.url}`);
    const exposed = (sent.headers.get("access-control-expose-headers") ?? "").toLowerCase().split(/\s*,\s*/);
    if (sent.ok && !exposed.includes("etag"))
      note(
        "cors etag",
        "warning",
        `the bucket's CORS rule does not expose ETag to ${origin}, so pages cannot read it and uploads in parts ` +
          '(createMultipartUpload) cannot be completed: add "ExposeHeaders":["ETag"] to the rule.',
      );
  } catch (error) {
    note("direct upload", "unknown", `the upload URL could not be used from this machine (${describe(error)}).`);
  } finally {
    await storage.delete(key).catch(() => undefined);
  }
}

import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import type { S3StorageOptions } from "../../src/drivers/s3/S3StorageOptions";
import { S3Storage } from "../../src/storage/S3Storage";

/** `default`: the SDK's flexible checksums (WHEN_SUPPORTED); `required`: WHEN_REQUIRED for both directions. */
export type ChecksumMode = "default" | "required";
export const CHECKSUM_MODES: ChecksumMode[] = ["default", "required"];

/** The server the tests talk to: the harness's s3rver, or whatever `S3_ENDPOINT` names. */
export function s3Env(): { endpoint: string; accessKey: string; secretKey: string } {
  const endpoint = process.env.S3_ENDPOINT;
  const accessKey = process.env.S3_ACCESS_KEY;
  const secretKey = process.env.S3_SECRET_KEY;
  if (!endpoint || !accessKey || !secretKey) {
    throw new Error(
      "S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY must be set (test/support/globalSetup.ts sets them).",
    );
  }
  return { endpoint, accessKey, secretKey };
}

/** True against a server that verifies SigV4 and enforces ACLs (Ceph RGW via scripts/ceph-rgw-start.sh). */
export const strict = process.env.S3_STRICT === "1";

/** True when the tests run on the s3rver the harness started (no ListMultipartUploads, files on disk). */
export const onHarnessS3rver = process.env.S3_HARNESS_S3RVER === "1";

/** `describe` on a strict server, else a skipped block whose name says why. */
export function describeStrict(name: string, body: () => void): void {
  if (strict) describe(name, body);
  else describe.skip(`${name} (needs S3_STRICT=1: s3rver verifies no signatures and ignores ACLs)`, body);
}

export function checksumConfig(mode: ChecksumMode): Pick<S3StorageOptions, "clientConfig">["clientConfig"] {
  return mode === "required"
    ? { requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED", maxAttempts: 1 }
    : { maxAttempts: 1 };
}

/** A plain SDK client on the test server, for setting up and inspecting state behind the storage's back. */
export function rawClient(mode: ChecksumMode = "required"): S3Client {
  const { endpoint, accessKey, secretKey } = s3Env();
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    ...checksumConfig(mode),
  });
}

/** Creates a bucket with a unique name (`label` helps reading server logs) and returns its name. */
export async function createTestBucket(label: string): Promise<string> {
  const name = `${label
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 40)}-${randomBytes(4).toString("hex")}`;
  const client = rawClient();
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
  return name;
}

/** Empties and deletes a test bucket, aborting unfinished multipart uploads where the server lists them. */
export async function deleteTestBucket(bucket: string): Promise<void> {
  const client = rawClient();
  try {
    for (;;) {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key as string }));
      if (keys.length === 0) break;
      await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    }
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket })).catch(() => null);
    for (const u of uploads?.Uploads ?? []) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
    }
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}

/**
 * The multipart uploads of `bucket` begun and neither completed nor aborted. s3rver has no
 * ListMultipartUploads; the harness's shim keeps each upload in a folder on disk, which this lists.
 */
export async function unfinishedUploads(bucket: string): Promise<string[]> {
  if (!onHarnessS3rver) {
    const client = rawClient();
    try {
      const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return (page.Uploads ?? []).map((u) => `${u.Key} ${u.UploadId}`);
    } finally {
      client.destroy();
    }
  }
  const root = path.join(__dirname, "..", "..", ".s3rver-data");
  const runs = fs.existsSync(root)
    ? fs.readdirSync(root).filter((run) => fs.existsSync(path.join(root, run, bucket)))
    : [];
  // The bucket's folder must exist, or an empty answer would prove nothing.
  if (runs.length !== 1) throw new Error(`found ${runs.length} s3rver folders for bucket ${bucket} under ${root}`);
  const dir = path.join(root, runs[0], bucket, "._S3rver_uploads");
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

/** An `S3Storage` on `bucket` of the test server, path-style, with the given checksum mode. */
export function makeS3Storage(
  bucket: string,
  mode: ChecksumMode = "default",
  options: Partial<S3StorageOptions> = {},
): S3Storage {
  return new S3Storage(s3StorageOptions(bucket, mode, options));
}

/** The options `makeS3Storage` uses, for building a subclass of `S3Storage` on the test server. */
export function s3StorageOptions(
  bucket: string,
  mode: ChecksumMode = "default",
  options: Partial<S3StorageOptions> = {},
): S3StorageOptions {
  const { endpoint, accessKey, secretKey } = s3Env();
  return {
    bucketName: bucket,
    endpointUrl: endpoint,
    regionName: "us-east-1",
    addressingStyle: "path",
    accessKey,
    secretKey,
    ...options,
    clientConfig: { ...checksumConfig(mode), ...options.clientConfig },
  };
}

/** Counts the requests a client sends (SDK middleware at the first step, so nothing escapes it). */
export function countRequests(client: S3Client): { readonly count: number; readonly names: string[] } {
  const names: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      names.push(String(context.commandName));
      return next(args);
    },
    { step: "initialize", name: `countRequests-${randomBytes(4).toString("hex")}` },
  );
  return {
    get count() {
      return names.length;
    },
    names,
  };
}

/** One request as the SDK sent it: the command, its input, and the HTTP headers on the wire. */
export interface CapturedRequest {
  command: string;
  input: Record<string, unknown>;
  headers: Record<string, string>;
  method: string;
  path: string;
}

/**
 * Records every request a client sends, with its final HTTP headers (SDK middleware at the end of the
 * `finalizeRequest` step, after signing). For headers no local server stores (SSE, KMS key id, storage
 * class, ACL on s3rver), assert on these.
 */
export function captureRequests(client: S3Client): CapturedRequest[] {
  const captured: CapturedRequest[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers: Record<string, string>; method: string; path: string };
      captured.push({
        command: String(context.commandName),
        input: args.input as Record<string, unknown>,
        headers: { ...request.headers },
        method: request.method,
        path: request.path,
      });
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name: `captureRequests-${randomBytes(4).toString("hex")}` },
  );
  return captured;
}

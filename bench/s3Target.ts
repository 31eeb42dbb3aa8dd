import { type ChildProcess, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { CreateBucketCommand, DeleteBucketCommand } from "@aws-sdk/client-s3";
import { withRawClient } from "./clients";
import { deletePrefix } from "./support/deletePrefix";

/** The S3 server and bucket every process of a run talks to (JSON-safe: children receive it). */
export interface S3Target {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  bucket: string;
  /** The s3rver process the bench started, so children can read its CPU time; null for `S3_ENDPOINT`. */
  serverPid: number | null;
  /** What the report says about the server. */
  description: string;
}

/** A target and how to tear it down. */
export interface OpenTarget {
  target: S3Target;
  close(): Promise<void>;
}

/**
 * Uses `S3_ENDPOINT` (keys from `S3_ACCESS_KEY`/`S3_SECRET_KEY` or `AWS_ACCESS_KEY_ID`/
 * `AWS_SECRET_ACCESS_KEY`; bucket `S3_BUCKET` or a new one) or starts the shimmed s3rver in a child
 * process on a free port, and creates the bucket. Throws when the server cannot be reached.
 */
export async function openTarget(dataRoot: string): Promise<OpenTarget> {
  const endpoint = process.env.S3_ENDPOINT;
  if (endpoint) return openExternal(endpoint);
  const directory = path.join(dataRoot, `s3rver-${process.pid}`);
  const child = fork(path.join(__dirname, "s3rverProcess.js"), [directory], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const started = await new Promise<{ endpoint: string }>((resolve, reject) => {
    child.once("message", (message) => resolve(message as { endpoint: string }));
    child.once("exit", (code) => reject(new Error(`s3rver exited with code ${code} before it started`)));
  });
  const target: S3Target = {
    endpoint: started.endpoint,
    accessKey: "S3RVER",
    secretKey: "S3RVER",
    region: "us-east-1",
    bucket: "bench",
    serverPid: child.pid ?? null,
    description: "s3rver 3.7.1 (shimmed, example-app/src/embeddedS3.ts) in its own process, directory store",
  };
  await createBucket(target);
  return {
    target,
    async close() {
      await stopChild(child);
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}

async function openExternal(endpoint: string): Promise<OpenTarget> {
  const accessKey = process.env.S3_ACCESS_KEY ?? process.env.AWS_ACCESS_KEY_ID;
  const secretKey = process.env.S3_SECRET_KEY ?? process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKey || !secretKey) {
    throw new Error("S3_ENDPOINT is set: also set S3_ACCESS_KEY and S3_SECRET_KEY (or the AWS_* pair).");
  }
  const ownBucket = !process.env.S3_BUCKET;
  const target: S3Target = {
    endpoint,
    accessKey,
    secretKey,
    region: process.env.S3_REGION ?? "us-east-1",
    bucket: process.env.S3_BUCKET ?? `typeorm-storages-bench-${randomBytes(4).toString("hex")}`,
    serverPid: null,
    description: `S3_ENDPOINT ${endpoint}`,
  };
  if (ownBucket) await createBucket(target);
  return {
    target,
    async close() {
      if (!ownBucket) return;
      await deletePrefix(target, "");
      await withRawClient(target, (client) => client.send(new DeleteBucketCommand({ Bucket: target.bucket })));
    },
  };
}

async function createBucket(target: S3Target): Promise<void> {
  await withRawClient(target, (client) => client.send(new CreateBucketCommand({ Bucket: target.bucket })));
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.disconnect();
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

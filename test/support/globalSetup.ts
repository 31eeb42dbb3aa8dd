import path from "node:path";
import { startS3rver } from "./s3Server";

/**
 * Jest global setup (every project): unless `S3_ENDPOINT` points at a server already, starts a shimmed
 * s3rver on a free port of 127.0.0.1 (~0.2 s) and exports its endpoint and keys to the workers, which
 * inherit this process's environment. Jest calls this once per project, so only the first call starts it.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.S3_ENDPOINT) return;
  const directory = path.join(__dirname, "..", "..", ".s3rver-data", `run-${process.pid}`);
  const server = await startS3rver(directory);
  (globalThis as { __s3rver?: typeof server }).__s3rver = server;
  process.env.S3_ENDPOINT = server.endpoint;
  process.env.S3_ACCESS_KEY = "S3RVER";
  process.env.S3_SECRET_KEY = "S3RVER";
  process.env.S3_HARNESS_S3RVER = "1";
}

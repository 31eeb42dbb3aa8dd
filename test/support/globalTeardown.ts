import fs from "node:fs/promises";
import type { S3rverHandle } from "./s3Server";

/** Stops the s3rver that `globalSetup` started (if any) and removes its data directory. */
export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as { __s3rver?: S3rverHandle };
  const server = holder.__s3rver;
  if (!server) return;
  holder.__s3rver = undefined;
  await server.close();
  await fs.rm(server.directory, { recursive: true, force: true });
}

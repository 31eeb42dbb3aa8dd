import { randomBytes } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";

/** Counts the HTTP requests an SDK client sends. */
export interface RequestCounter {
  readonly count: number;
}

/**
 * Adds a middleware to `client` in the deserialize step, which runs once per attempt (after the retry
 * middleware), so retries count and presigning, which never reaches it, does not.
 */
export function countRequests(client: S3Client): RequestCounter {
  let count = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      count++;
      return next(args);
    },
    { step: "deserialize", name: `benchCountRequests-${randomBytes(4).toString("hex")}` },
  );
  return {
    get count() {
      return count;
    },
  };
}

/** Sums several counters (a figure that uses two storages). */
export function sumCounters(counters: RequestCounter[]): RequestCounter {
  return {
    get count() {
      return counters.reduce((sum, c) => sum + c.count, 0);
    },
  };
}

import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { S3Storage } from "typeorm-storages";
import { libStorage, rawClient } from "../clients";
import type { BenchPath } from "../figure";
import type { S3Target } from "../s3Target";
import { countRequests, type RequestCounter } from "../support/requestCounter";

/** The small-object operations, done by the library or by hand with the SDK, so one loop measures both. */
export interface ObjectOps {
  save(key: string, body: Buffer, overwrite: boolean): Promise<void>;
  read(key: string): Promise<Buffer>;
  size(key: string): Promise<number>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  readonly requests: RequestCounter;
  close(): Promise<void>;
}

function libOps(storage: S3Storage): ObjectOps {
  return {
    save: async (key, body, overwrite) => {
      await storage.save(key, body, { overwrite });
    },
    read: (key) => storage.read(key),
    size: (key) => storage.size(key),
    exists: (key) => storage.exists(key),
    delete: (key) => storage.delete(key),
    requests: countRequests(storage.client),
    close: () => storage.close(),
  };
}

const isNotFound = (error: unknown) => (error as { name?: string }).name === "NotFound";

/**
 * What an application writes without the library: PutObject (with `If-None-Match: *` when it must not
 * overwrite, the library's one-request no-overwrite save), GetObject with the body collected,
 * HeadObject, DeleteObject. Same content type as the library guesses for `.bin`.
 */
function rawOps(client: S3Client, bucket: string): ObjectOps {
  return {
    save: async (key, body, overwrite) => {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: "application/octet-stream",
          IfNoneMatch: overwrite ? undefined : "*",
        }),
      );
    },
    read: async (key) => {
      const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const parts: Buffer[] = [];
      for await (const chunk of Body as AsyncIterable<Buffer>) parts.push(chunk);
      return Buffer.concat(parts);
    },
    size: async (key) => (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength ?? 0,
    exists: async (key) => {
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw error;
      }
    },
    delete: async (key) => {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    requests: countRequests(client),
    close: async () => client.destroy(),
  };
}

/** The operations of `path` on `target`, with their request counter. */
export function objectOps(path: BenchPath, target: S3Target): ObjectOps {
  return path === "lib" ? libOps(libStorage(target)) : rawOps(rawClient(target), target.bucket);
}

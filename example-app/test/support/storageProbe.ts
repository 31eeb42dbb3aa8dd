import fs from "node:fs";
import path from "node:path";
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";

/** Looks at the stored objects behind the app's back: files under DATA_DIR, or objects in the bucket. */
export interface StorageProbe {
  /** Every stored object, as `<storage prefix>/<key>`. */
  keys(): Promise<string[]>;
  /** True when the object a media URL points to exists. */
  exists(url: string): Promise<boolean>;
  /** Removes what the test left: the bucket of a shared S3 server, with its objects. */
  removeAll(): Promise<void>;
  close(): void;
}

function walk(root: string, prefix: string): string[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map(
      (entry) => `${prefix}/${path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join("/")}`,
    );
}

/** Local disk: public files under `<dataDir>/media`, private ones under `<dataDir>/private-media`. */
export function diskProbe(dataDir: string): StorageProbe {
  return {
    async keys() {
      return [
        ...walk(path.join(dataDir, "media"), "media"),
        ...walk(path.join(dataDir, "private-media"), "private-media"),
      ];
    },
    async exists(url) {
      const key = decodeURIComponent(new URL(url, "http://app").pathname).replace(/^\//, "");
      return fs.existsSync(path.join(dataDir, ...key.split("/")));
    },
    async removeAll() {}, // DATA_DIR is removed with the app
    close() {},
  };
}

/** S3: path-style URLs `<endpoint>/<bucket>/<key>`. */
export function s3Probe(options: {
  endpoint: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
}): StorageProbe {
  const client = new S3Client({
    endpoint: options.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: options.accessKey, secretAccessKey: options.secretKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const prefix = `/${options.bucket}/`;
  return {
    async keys() {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: options.bucket, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key as string));
        token = page.NextContinuationToken;
      } while (token);
      return keys;
    },
    async exists(url) {
      const pathname = new URL(url).pathname;
      if (!pathname.startsWith(prefix)) throw new Error(`${url} is not in bucket ${options.bucket}`);
      const key = decodeURIComponent(pathname.slice(prefix.length));
      return client.send(new HeadObjectCommand({ Bucket: options.bucket, Key: key })).then(
        () => true,
        (error: { $metadata?: { httpStatusCode?: number } }) => {
          if (error.$metadata?.httpStatusCode === 404) return false;
          throw error;
        },
      );
    },
    async removeAll() {
      const keys = await this.keys();
      if (keys.length > 0) {
        await client.send(
          new DeleteObjectsCommand({ Bucket: options.bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
        );
      }
      await client.send(new DeleteBucketCommand({ Bucket: options.bucket }));
    },
    close() {
      client.destroy();
    },
  };
}

/**
 * Starts s3rver 3.7.1 in-process on 127.0.0.1 with the compatibility shims that make it safe with the
 * current AWS SDK v3 on Node >= 17 (shared/research/s3-servers.md §3). Credentials: `S3RVER`/`S3RVER`.
 * One copy, used by the example app (`EMBEDDED_S3=1`) and by the library's test harness
 * (test/support/s3Server.ts re-exports it).
 *
 * Shims (each reproduced there):
 * - des: ListObjectsV2 continuation tokens use single DES, which OpenSSL 3 refuses (500 on every
 *   truncated listing). 3DES with K1=K2=K3 is the same cipher.
 * - deleteRace: DeleteObjects races on empty-folder cleanup (intermittent 500, ENOENT).
 * - awsChunked: SDK-default stream uploads arrive as `aws-chunked`; s3rver stored the framing as data.
 * - conditional: `If-None-Match: *` / `If-Match` on PUT (PutObject, CopyObject) and on POST
 *   `?uploadId` (CompleteMultipartUpload) answer 412 like S3; s3rver ignores both and overwrites.
 *   Conditional writes of one key run one at a time, so of two racing `If-None-Match: *` one gets 412.
 * - abortMultipart: AbortMultipartUpload (405 in s3rver, parts leaked) removes the upload.
 * - copySource: s3rver decodes `x-amz-copy-source` with `decodeURI`, so `%2B` stayed encoded.
 * Not shimmable: SigV4 is never verified, anonymous access is always allowed, ACLs are ignored,
 * ListParts/ListMultipartUploads are missing, keys with `//` fail. Tests of those need S3_STRICT=1.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Transform, type TransformCallback } from "node:stream";

/** A running s3rver. */
export interface S3rverHandle {
  endpoint: string;
  directory: string;
  close(): Promise<void>;
}

// s3rver ships no types; these are the few shapes the shims touch.
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, unknown>;
  req: NodeJS.ReadableStream;
  request: { headers: Record<string, string | string[] | undefined> };
  status: number;
  body: unknown;
  get(name: string): string;
  app: { store: { getMetadata(bucket: string, key: string): Promise<{ etag: string } | null> } };
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

let desInstalled = false;
function installDesShim(): void {
  if (desInstalled) return;
  try {
    crypto.createCipheriv("des", Buffer.alloc(8), Buffer.alloc(8));
    return; // the legacy provider is loaded: nothing to do
  } catch {
    // OpenSSL 3 without the legacy provider: map below
  }
  const wrap = <F extends (...args: any[]) => unknown>(original: F): F =>
    function (this: unknown, algorithm: string, key: Buffer, ...rest: unknown[]) {
      if (typeof algorithm === "string" && algorithm.toLowerCase() === "des" && key?.length === 8) {
        const k = Buffer.from(key);
        return original.call(this, "des-ede3-cbc", Buffer.concat([k, k, k]), ...rest);
      }
      return original.call(this, algorithm, key, ...rest);
    } as unknown as F;
  const mutable = crypto as unknown as Record<string, (...args: any[]) => unknown>;
  mutable.createCipheriv = wrap(crypto.createCipheriv);
  mutable.createDecipheriv = wrap(crypto.createDecipheriv);
  desInstalled = true;
}

/** Decodes `Content-Encoding: aws-chunked` bodies (signed or unsigned chunks; trailers dropped unverified). */
export class AwsChunkedDecoder extends Transform {
  #buffer: Buffer = Buffer.alloc(0);
  #remaining = 0;
  #state: "size" | "data" | "crlf" | "trailer" = "size";

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#buffer = this.#buffer.length > 0 ? Buffer.concat([this.#buffer, chunk]) : chunk;
    try {
      while (this.#step()) {
        // each step consumes input or changes state
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  #step(): boolean {
    if (this.#state === "size") {
      const end = this.#buffer.indexOf("\r\n");
      if (end < 0) return false;
      const line = this.#buffer.subarray(0, end).toString("latin1");
      this.#buffer = this.#buffer.subarray(end + 2);
      const size = Number.parseInt(line.split(";")[0], 16);
      if (Number.isNaN(size)) throw new Error(`bad aws-chunked size line: ${line.slice(0, 80)}`);
      this.#remaining = size;
      this.#state = size === 0 ? "trailer" : "data";
      return true;
    }
    if (this.#state === "data") {
      if (this.#buffer.length === 0) return false;
      const n = Math.min(this.#remaining, this.#buffer.length);
      this.push(this.#buffer.subarray(0, n));
      this.#buffer = this.#buffer.subarray(n);
      this.#remaining -= n;
      if (this.#remaining === 0) this.#state = "crlf";
      return true;
    }
    if (this.#state === "crlf") {
      if (this.#buffer.length < 2) return false;
      this.#buffer = this.#buffer.subarray(2);
      this.#state = "size";
      return true;
    }
    this.#buffer = Buffer.alloc(0);
    return false;
  }
}

function bucketAndKey(ctx: KoaContext): { bucket: string; key: string } | null {
  const match = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  if (!match) return null;
  try {
    return { bucket: decodeURIComponent(match[1]), key: decodeURIComponent(match[2]) };
  } catch {
    return null;
  }
}

function shims(S3Error: new (code: string, message: string, detail?: object) => Error, root: string): Middleware[] {
  const awsChunked: Middleware = async (ctx, next) => {
    const encoding = ctx.get("content-encoding");
    if (/(^|,)\s*aws-chunked\s*(,|$)/i.test(encoding) || /^STREAMING-/i.test(ctx.get("x-amz-content-sha256"))) {
      ctx.req = ctx.req.pipe(new AwsChunkedDecoder());
      const headers = ctx.request.headers;
      const rest = encoding
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s && s.toLowerCase() !== "aws-chunked");
      if (rest.length > 0) headers["content-encoding"] = rest.join(",");
      else delete headers["content-encoding"];
      const decoded = headers["x-amz-decoded-content-length"];
      if (decoded) headers["content-length"] = decoded;
    }
    await next();
  };
  /** The conditional write of each key in progress, which the next one of that key waits for. */
  const conditionalWrites = new Map<string, Promise<void>>();
  const conditional: Middleware = async (ctx, next) => {
    const noneMatch = ctx.get("if-none-match").trim();
    const match = ctx.get("if-match").trim();
    const isPut =
      ctx.method === "PUT" && !("uploadId" in ctx.query) && !("acl" in ctx.query) && !("tagging" in ctx.query);
    const isComplete = ctx.method === "POST" && "uploadId" in ctx.query;
    const target = (noneMatch || match) && (isPut || isComplete) ? bucketAndKey(ctx) : null;
    if (!target) return next();
    // S3 checks the condition and writes as one step; s3rver streams the body in between, so two
    // conditional writes of one key, checked before either was stored, both passed and the last won
    const id = `${target.bucket}/${target.key}`;
    const before = conditionalWrites.get(id) ?? Promise.resolve();
    let release = () => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const mine = before.then(() => done);
    conditionalWrites.set(id, mine);
    await before;
    try {
      const meta = await ctx.app.store.getMetadata(target.bucket, target.key).catch(() => null);
      const etag = meta ? String(meta.etag).replace(/"/g, "") : null;
      const failed = (condition: string) =>
        new S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", {
          Condition: condition,
        });
      if (noneMatch === "*" && meta) throw failed("If-None-Match");
      if (match && !meta) throw new S3Error("NoSuchKey", "The specified key does not exist.", { Key: target.key });
      if (match && match !== "*" && match.replace(/"/g, "") !== etag) throw failed("If-Match");
      await next();
    } finally {
      release();
      if (conditionalWrites.get(id) === mine) conditionalWrites.delete(id);
    }
  };
  const copySource: Middleware = async (ctx, next) => {
    const headers = ctx.request.headers;
    const source = headers["x-amz-copy-source"];
    if (ctx.method === "PUT" && typeof source === "string") {
      try {
        headers["x-amz-copy-source"] = encodeURI(decodeURIComponent(source));
      } catch {
        // leave a malformed header for s3rver to reject
      }
    }
    await next();
  };
  const abortMultipart: Middleware = async (ctx, next) => {
    const uploadId = ctx.query.uploadId;
    const target = ctx.method === "DELETE" && typeof uploadId === "string" ? bucketAndKey(ctx) : null;
    if (!target) return next();
    const dir = path.join(root, target.bucket, "._S3rver_uploads", path.basename(uploadId as string));
    if (!fs.existsSync(dir)) {
      throw new S3Error("NoSuchUpload", "The specified upload does not exist.", { UploadId: uploadId });
    }
    await fs.promises.rm(dir, { recursive: true, force: true });
    ctx.status = 204;
    ctx.body = null;
  };
  return [awsChunked, conditional, copySource, abortMultipart];
}

/** Starts a shimmed s3rver on 127.0.0.1 (`port` 0 picks a free one), storing objects under `directory`. */
export async function startS3rver(directory: string, port = 0): Promise<S3rverHandle> {
  installDesShim();
  // s3rver is CommonJS without types; its internals are patched below.
  const S3rver = require("s3rver");
  const FilesystemStore = require("s3rver/lib/stores/filesystem");
  const S3Error = require("s3rver/lib/models/error");
  const store = FilesystemStore.prototype;
  if (!store.__deleteRaceShim) {
    const deleteObject = store.deleteObject;
    store.deleteObject = async function (this: unknown, ...args: unknown[]) {
      try {
        return await deleteObject.apply(this, args);
      } catch (error) {
        if ((error as NodeJS.ErrnoException)?.code === "ENOENT") return undefined;
        throw error;
      }
    };
    store.__deleteRaceShim = true;
  }
  const root = path.resolve(directory);
  fs.mkdirSync(root, { recursive: true });
  const server = new S3rver({ address: "127.0.0.1", port, directory: root, silent: true, vhostBuckets: false });
  // Koa composes app.middleware when it starts listening, so these run before s3rver's own.
  server.middleware.unshift(...shims(S3Error, root));
  const { address, port: bound } = await server.run();
  return {
    endpoint: `http://${address}:${bound}`,
    directory: root,
    async close() {
      const http = server.httpServer;
      // The SDK keeps sockets alive; without this close() waits for them to time out.
      if (http?.closeAllConnections) setImmediate(() => http.closeAllConnections());
      await server.close();
    },
  };
}

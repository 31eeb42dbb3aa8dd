import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { DriverBody, FileContent, LocalFileContent, MulterFileLike } from "../types";

/** What the content said about itself, beside its bytes. */
export interface ContentInfo {
  body: DriverBody;
  /** The original filename, when the content carries one (multer, File). */
  filename: string | null;
  /** The declared content type, when the content carries one (multer, Blob). */
  contentType: string | null;
}

function isLocalFile(value: unknown): value is LocalFileContent {
  return typeof value === "object" && value !== null && (value as LocalFileContent).kind === "local-file";
}

function isMulterFile(value: unknown): value is MulterFileLike {
  if (typeof value !== "object" || value === null) return false;
  const v = value as MulterFileLike;
  return (Buffer.isBuffer(v.buffer) || typeof v.path === "string") && ("originalname" in v || "mimetype" in v);
}

/**
 * A local file as a stream. Its length is what stat() says for a regular file with content; otherwise
 * (a FIFO, a device, a /proc file, which report 0 and hold more) it is left unknown, and counted.
 */
async function fileBody(path: string): Promise<DriverBody> {
  const info = await stat(path);
  const length = info.isFile() && info.size > 0 ? info.size : null;
  return { kind: "stream", stream: createReadStream(path), length };
}

/**
 * Converts anything `save()` accepts into a driver body. Throws `TypeError` for anything else, so the
 * facade can report it before any byte is written.
 */
export async function toDriverBody(content: FileContent): Promise<ContentInfo> {
  const plain = (body: DriverBody): ContentInfo => ({ body, filename: null, contentType: null });
  if (Buffer.isBuffer(content)) return plain({ kind: "buffer", buffer: content });
  if (content instanceof Uint8Array) {
    return plain({ kind: "buffer", buffer: Buffer.from(content.buffer, content.byteOffset, content.byteLength) });
  }
  if (typeof content === "string") return plain({ kind: "buffer", buffer: Buffer.from(content, "utf8") });
  if (content instanceof Readable) return plain({ kind: "stream", stream: content, length: null });
  if (typeof Blob !== "undefined" && content instanceof Blob) {
    const stream = Readable.fromWeb(content.stream() as unknown as WebReadableStream<Uint8Array>);
    const name = (content as { name?: unknown }).name;
    return {
      body: { kind: "stream", stream, length: content.size },
      filename: typeof name === "string" && name ? name : null,
      contentType: content.type || null,
    };
  }
  if (typeof ReadableStream !== "undefined" && content instanceof ReadableStream) {
    return plain({
      kind: "stream",
      stream: Readable.fromWeb(content as unknown as WebReadableStream<Uint8Array>),
      length: null,
    });
  }
  if (isLocalFile(content)) return plain(await fileBody(content.path));
  if (isMulterFile(content)) {
    const body: DriverBody = Buffer.isBuffer(content.buffer)
      ? { kind: "buffer", buffer: content.buffer }
      : await fileBody(content.path as string);
    return { body, filename: content.originalname ?? null, contentType: content.mimetype ?? null };
  }
  throw new TypeError(
    "Unsupported content: pass a Buffer, Uint8Array, string, Node Readable, web ReadableStream, Blob/File, " +
      "a multer file object, or fromPath(path) for a local file.",
  );
}

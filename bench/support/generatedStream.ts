import { createHash } from "node:crypto";
import { Readable } from "node:stream";

const CHUNK = 64 * 1024;
const WINDOW = 1024 * 1024;
let pattern: Buffer | null = null;

/** 1 MiB plus a chunk of fixed pseudo-random bytes (SHA-256 in counter mode), built once per process. */
function patternBytes(): Buffer {
  if (pattern === null) {
    const blocks: Buffer[] = [];
    for (let i = 0; i < (WINDOW + CHUNK) / 32; i++) blocks.push(createHash("sha256").update(`bench-${i}`).digest());
    pattern = Buffer.concat(blocks);
  }
  return pattern;
}

/**
 * The bytes of a generated file of `size` bytes, as fresh 64 KiB buffers (the chunk size of a file
 * read stream), never the whole file at once. Each chunk starts elsewhere in the pattern, so the file
 * does not repeat every megabyte. Deterministic: the same size always gives the same bytes.
 */
export function* generatedChunks(size: number): Generator<Buffer> {
  const source = patternBytes();
  for (let offset = 0, index = 0; offset < size; index++) {
    const length = Math.min(CHUNK, size - offset);
    const start = (index * 4099) % WINDOW;
    const chunk = Buffer.allocUnsafe(length);
    source.copy(chunk, 0, start, start + length);
    offset += length;
    yield chunk;
  }
}

/** A Readable of `generatedChunks(size)`, of unknown length to its reader, as an upload stream is. */
export function generatedStream(size: number): Readable {
  return Readable.from(generatedChunks(size), { objectMode: false });
}

/** The hex MD5 of `generatedChunks(size)`: the ETag s3rver reports for it (multipart included). */
export function generatedMd5(size: number): string {
  const hash = createHash("md5");
  for (const chunk of generatedChunks(size)) hash.update(chunk);
  return hash.digest("hex");
}

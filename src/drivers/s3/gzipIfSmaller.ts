import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { mediaType } from "../../content/guessContentType";
import type { ResolvedS3Options } from "./S3StorageOptions";

const gzipAsync = promisify(gzip);

/**
 * Metadata key holding the original byte count of a gzipped object (`x-amz-meta-uncompressed_size`),
 * the name django-s3-storage uses, so `size()` agrees with objects either library wrote.
 */
export const UNCOMPRESSED_SIZE = "uncompressed_size";

/**
 * The original size recorded in an object's metadata, or NaN. Ceph RGW turns `_` into `-` in metadata
 * names, so both spellings are read.
 */
export function uncompressedSize(metadata: Record<string, string> | undefined): number {
  const value = metadata?.[UNCOMPRESSED_SIZE] ?? metadata?.["uncompressed-size"];
  return value === undefined || !/^\d+$/.test(value) ? Number.NaN : Number(value);
}

/** The smallest gzip member: a 10-byte header, an empty deflate block, an 8-byte trailer. */
const MIN_GZIP_LENGTH = 20;
/** Deflate compresses at most about 1032:1, so a member of `n` bytes holds at most `n * 1032` bytes. */
const MAX_DEFLATE_RATIO = 1032;

/**
 * Whether the ISIZE field of the trailer of a gzip object of `stored` bytes (its original size modulo
 * 2^32) is its original size: the object is long enough to be gzip, and too short to hold 4 GiB. It
 * counts the last member only; one gzip member per object is what gzip writers produce.
 */
export function gzipTrailerSizeIsExact(stored: number): boolean {
  return stored >= MIN_GZIP_LENGTH && stored * MAX_DEFLATE_RATIO < 2 ** 32;
}

/**
 * Gzips `buffer` when the storage has `gzip` on and `contentType` is one of `gzipContentTypes`, and
 * returns the compressed bytes only when they are smaller (django-s3-storage); otherwise null, and the
 * object is stored as it is. Runs on the zlib thread pool, not the event loop.
 */
export async function gzipIfSmaller(
  buffer: Buffer,
  contentType: string,
  options: Pick<ResolvedS3Options, "gzip" | "gzipContentTypes">,
): Promise<Buffer | null> {
  if (!options.gzip || buffer.length === 0 || !options.gzipContentTypes.has(mediaType(contentType))) return null;
  const compressed = await gzipAsync(buffer);
  return compressed.length < buffer.length ? compressed : null;
}

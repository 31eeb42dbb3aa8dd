import { pipeline, type Readable, Transform } from "node:stream";
import { createGunzip } from "node:zlib";
import type { ByteRange } from "../../types";

/** True when a stored object's Content-Encoding says gzip (as written by `gzip: true` or django-storages). */
export function isGzipEncoded(contentEncoding: string | undefined): boolean {
  return contentEncoding !== undefined && /(^|,)\s*gzip\s*($|,)/i.test(contentEncoding);
}

/** Passes on only the bytes of the inclusive `range` of what flows through, then ends. */
function sliceRange(range: ByteRange): Transform {
  let offset = 0;
  const end = range.end === undefined ? Number.POSITIVE_INFINITY : range.end + 1;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const from = Math.max(range.start - offset, 0);
      const to = Math.min(end - offset, chunk.length);
      offset += chunk.length;
      if (to > from) this.push(chunk.subarray(from, to));
      // Past the range: drop the rest (the source is destroyed with the pipeline when the reader stops).
      callback();
    },
  });
}

/**
 * The original bytes of a gzipped object body (`range`, if given, counts original bytes, as
 * `size()` does). Errors of the source or of a corrupt body reach the returned stream.
 */
export function gunzipBody(body: Readable, range?: ByteRange): Readable {
  const gunzip = createGunzip();
  if (range === undefined) return pipeline(body, gunzip, () => undefined);
  return pipeline(body, gunzip, sliceRange(range), () => undefined);
}

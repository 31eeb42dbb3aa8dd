import { pipeline, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { ByteRange } from "../../types";
import { sliceRange } from "./sliceRange";

/** True when a stored object's Content-Encoding says gzip (as written by `gzip: true` or django-storages). */
export function isGzipEncoded(contentEncoding: string | undefined): boolean {
  return contentEncoding !== undefined && /(^|,)\s*gzip\s*($|,)/i.test(contentEncoding);
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

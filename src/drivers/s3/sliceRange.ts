import { Transform } from "node:stream";
import type { ByteRange } from "../../types";

/**
 * A stream that passes on only the bytes of the inclusive `range` of what flows through it, counted
 * from `offset` (the position of the first byte that flows), and drops the rest.
 */
export function sliceRange(range: ByteRange, offset = 0): Transform {
  let position = offset;
  const end = range.end === undefined ? Number.POSITIVE_INFINITY : range.end + 1;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const from = Math.max(range.start - position, 0);
      const to = Math.min(end - position, chunk.length);
      position += chunk.length;
      if (to > from) this.push(chunk.subarray(from, to));
      // Past the range: drop the rest (the source is destroyed with the pipeline when the reader stops).
      callback();
    },
  });
}

/**
 * Where the body of a ranged GET begins: the first position of its `Content-Range` (`bytes 0-9/10`),
 * 0 without one (a 200 with the whole object, which HTTP lets a server send whatever Range it was
 * asked), or null when the header cannot be read.
 */
export function contentRangeStart(contentRange: string | undefined): number | null {
  if (contentRange === undefined) return 0;
  const match = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(contentRange.trim());
  return match ? Number(match[1]) : null;
}

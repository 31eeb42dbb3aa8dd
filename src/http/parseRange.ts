/** A satisfiable byte range with both ends inclusive and inside the file. */
export interface SatisfiableRange {
  start: number;
  end: number;
}

/**
 * Reads a `Range` header against a file of `size` bytes. Returns the range to send, `"unsatisfiable"`
 * (answer 416), or `null` to send the whole file: no header, other units, several ranges, or a
 * malformed one (RFC 9110 §14.2 lets a server ignore those).
 */
export function parseRange(header: string | undefined, size: number): SatisfiableRange | "unsatisfiable" | null {
  if (!header) return null;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return null;
  const [, first, last] = match;
  if (first === "" && last === "") return null;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0) return "unsatisfiable";
    // a non-zero suffix of an empty file is satisfiable: the whole (empty) file (RFC 9110 §14.1.1)
    if (size === 0) return null;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return null;
  if (start >= size) return "unsatisfiable";
  return { start, end: last === "" ? size - 1 : Math.min(Number(last), size - 1) };
}

import type { IncomingHttpHeaders } from "node:http";

/** Returns `etag` as an HTTP entity-tag (`"…"` or `W/"…"`), quoting a bare one; `null` stays `null`. */
export function toEntityTag(etag: string | null): string | null {
  if (etag === null || etag === "") return null;
  return /^(W\/)?"[^"]*"$/.test(etag) ? etag : `"${etag.replace(/"/g, "")}"`;
}

const opaque = (tag: string) => (tag.startsWith("W/") ? tag.slice(2) : tag);

/**
 * True when the client's cached copy is current (answer 304): `If-None-Match` compared weakly with
 * `etag`, else `If-Modified-Since` against `lastModified` at one-second precision (RFC 9110 §13.1).
 */
export function isNotModified(headers: IncomingHttpHeaders, etag: string | null, lastModified: Date): boolean {
  const ifNoneMatch = headers["if-none-match"];
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() === "*") return true;
    if (etag === null) return false;
    return ifNoneMatch.split(",").some((tag) => opaque(tag.trim()) === opaque(etag));
  }
  const since = Date.parse(headers["if-modified-since"] ?? "");
  return !Number.isNaN(since) && Math.floor(lastModified.getTime() / 1000) * 1000 <= since;
}

/**
 * True when a `Range` may be honoured: no `If-Range`, or one that still names this version, by a
 * strong entity-tag match or the exact `Last-Modified` second. A weak tag never matches (RFC 9110 §13.1.5).
 */
export function ifRangeMatches(headers: IncomingHttpHeaders, etag: string | null, lastModified: Date): boolean {
  const raw = headers["if-range"];
  const ifRange = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!ifRange) return true;
  if (ifRange.startsWith('"')) return etag !== null && !etag.startsWith("W/") && ifRange === etag;
  if (ifRange.startsWith("W/")) return false;
  const date = Date.parse(ifRange);
  return !Number.isNaN(date) && Math.floor(lastModified.getTime() / 1000) === Math.floor(date / 1000);
}

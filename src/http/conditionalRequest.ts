import type { IncomingHttpHeaders } from "node:http";

/** Returns `etag` as an HTTP entity-tag (`"…"` or `W/"…"`), quoting a bare one; `null` stays `null`. */
export function toEntityTag(etag: string | null): string | null {
  if (etag === null || etag === "") return null;
  return /^(W\/)?"[^"]*"$/.test(etag) ? etag : `"${etag.replace(/"/g, "")}"`;
}

const opaque = (tag: string) => (tag.startsWith("W/") ? tag.slice(2) : tag);

/** The entity-tags of a list header; split on quotes, not commas, which a tag may contain. */
const ENTITY_TAGS = /(?:W\/)?"[^"]*"/g;

/**
 * True when the request's preconditions fail (answer 412, RFC 9110 §13.1.1, §13.1.4): `If-Match` is
 * neither `*` nor a list naming `etag` by strong comparison, so a weak ETag (every one on local disk)
 * fails any other list; without `If-Match`, `If-Unmodified-Since` is older than `lastModified` at
 * one-second precision (an unparsable date is ignored). Evaluated before `If-None-Match` (§13.2.2), so a
 * client resuming or updating from another version never gets other bytes than it expects.
 */
export function isPreconditionFailed(headers: IncomingHttpHeaders, etag: string | null, lastModified: Date): boolean {
  const ifMatch = headers["if-match"];
  if (ifMatch !== undefined) {
    if (ifMatch.trim() === "*") return false;
    if (etag === null || etag.startsWith("W/")) return true;
    const tags: string[] = ifMatch.match(ENTITY_TAGS) ?? [];
    return !tags.includes(etag);
  }
  const since = Date.parse(headers["if-unmodified-since"] ?? "");
  return !Number.isNaN(since) && Math.floor(lastModified.getTime() / 1000) * 1000 > since;
}

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

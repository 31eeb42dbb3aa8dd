import { lookup } from "mime-types";

/** The MIME type for a key's extension (via `mime-types`), or `application/octet-stream`. */
export function guessContentType(key: string): string {
  return lookup(key) || "application/octet-stream";
}

const TOKEN = "[A-Za-z0-9!#$&^_.+-]+";
/** One `type/subtype` with optional `; name=value` parameters (RFC 9110 §8.3.1), nothing else. */
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|"[^"\\\\\\r\\n]*"))*$`);

/**
 * True for one well-formed media type (`image/png`, `text/plain; charset=utf-8`). A list
 * (`image/png, text/html`) is not one: browsers take its last entry, so a check of the first would be
 * fooled.
 */
export function isMediaType(value: string): boolean {
  return value.length <= 255 && MEDIA_TYPE.test(value);
}

/** The media type of a Content-Type value, lower case, without parameters (`text/css` of `text/CSS; charset=utf-8`). */
export function mediaType(contentType: string): string {
  const semicolon = contentType.indexOf(";");
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/** Types a browser sniffs the real type of, as if none had been given. */
const SNIFFED = /^(?:unknown\/unknown|application\/unknown|\*\/\*)\b/i;

const UNSAFE_INLINE = [
  /^text\/html\b/i,
  /^(text|application)\/xml\b/i,
  // XSLT stylesheets: Chromium runs script in an XHTML document served as one
  /^text\/xsl\b/i,
  // every XML dialect (svg, xhtml, mathml, rdf, xslt, xul, ...): some browsers render them as documents
  /^[\w.-]+\/[\w.+-]*\+xml\b/i,
  // Firefox renders RDF as XML, and each part of a multipart/x-mixed-replace as its own type (text/html)
  /^text\/rdf\b/i,
  /^multipart\/x-mixed-replace\b/i,
];

/**
 * True for types a browser may run as a document on the storage's origin (html, svg, any xml, a
 * multipart/x-mixed-replace whose parts are html), and for
 * anything that is not one well-formed media type or makes browsers sniff: these are served as
 * `Content-Disposition: attachment` unless a storage opts out (stored XSS; Rails' Active Storage does
 * the same).
 */
export function isUnsafeInline(contentType: string): boolean {
  return !isMediaType(contentType) || SNIFFED.test(contentType) || UNSAFE_INLINE.some((re) => re.test(contentType));
}

import { lookup } from "mime-types";

/** The MIME type for a key's extension (via `mime-types`), or `application/octet-stream`. */
export function guessContentType(key: string): string {
  return lookup(key) || "application/octet-stream";
}

const UNSAFE_INLINE = [
  /^text\/html\b/i,
  /^(text|application)\/xml\b/i,
  // every XML dialect (svg, xhtml, mathml, rdf, xslt, xul, ...): some browsers render them as documents
  /^[\w.-]+\/[\w.+-]*\+xml\b/i,
];

/**
 * True for types a browser may run as a document on the storage's origin (html, svg, any xml): these
 * are served as `Content-Disposition: attachment` unless a storage opts out (stored XSS; Rails'
 * Active Storage does the same).
 */
export function isUnsafeInline(contentType: string): boolean {
  return UNSAFE_INLINE.some((re) => re.test(contentType));
}

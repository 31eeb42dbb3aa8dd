/**
 * Returns a `Content-Disposition` header value for `filename` (RFC 6266): an ASCII `filename="…"`
 * fallback for old clients plus `filename*=UTF-8''…` (RFC 5987) carrying the exact name. Quotes,
 * backslashes, control and non-ASCII characters never reach the quoted fallback, so the value is
 * always a safe header.
 */
export function contentDisposition(filename: string, type: "attachment" | "inline" = "attachment"): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  const encoded = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

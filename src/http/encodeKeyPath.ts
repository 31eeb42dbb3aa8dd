/**
 * Percent-encodes each `/`-separated segment of a key for use in a URL path (`a b/ü.txt` →
 * `a%20b/%C3%BC.txt`); the slashes between segments stay literal. Returns the encoded path.
 */
export function encodeKeyPath(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

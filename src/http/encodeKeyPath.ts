/** Characters `encodeURIComponent` leaves as they are, and `/`: a key made only of these needs no work. */
const UNRESERVED_PATH = /^[A-Za-z0-9\-_.!~*'()/]*$/;
const ENCODED_SLASH = /%2F/g;

/**
 * Percent-encodes each `/`-separated segment of a key for use in a URL path (`a b/ü.txt` →
 * `a%20b/%C3%BC.txt`); the slashes between segments stay literal. Returns the encoded path.
 */
export function encodeKeyPath(key: string): string {
  if (UNRESERVED_PATH.test(key)) return key; // most keys: the result would be the key itself
  // One native call instead of one per segment; a "%" in the key is encoded as "%25", so every "%2F"
  // left is one of its slashes.
  return encodeURIComponent(key).replace(ENCODED_SLASH, "/");
}

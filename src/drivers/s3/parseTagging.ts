/**
 * The tags of an `x-amz-tagging` value (`a=1&b=2`, URL-encoded), as S3 reads it: split on `&` and `=`,
 * each part percent-decoded (a `+` stays a `+`, unlike `URLSearchParams`).
 */
export function parseTagging(tagging: string | undefined): { Key: string; Value: string }[] {
  if (!tagging) return [];
  return tagging.split("&").map((pair) => {
    const equals = pair.indexOf("=");
    const [key, value] = equals === -1 ? [pair, ""] : [pair.slice(0, equals), pair.slice(equals + 1)];
    return { Key: decodeURIComponent(key), Value: decodeURIComponent(value) };
  });
}

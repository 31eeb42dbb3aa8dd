/**
 * Throws when a stream that announced `length` bytes (a file's `stat()` size, a `Content-Length`)
 * brought `size`: stored, a file cut short (rotated, truncated while read, a `/sys` file whose size is a
 * page) would look complete. Every driver checks the same, before the name is taken.
 */
export function assertAnnouncedLength(size: number, length: number | null): void {
  if (length !== null && size !== length) {
    throw new Error(`The content ended after ${size} bytes; ${length} were announced.`);
  }
}

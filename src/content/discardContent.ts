import { Readable } from "node:stream";
import type { FileContent } from "../types";

/**
 * Closes `content` that `save()` refuses before reading it: a Node stream is destroyed and a web
 * stream cancelled, so the caller's file handle or request body is not left open (the refusals of
 * `Storage.save` close theirs the same way). Bytes, Blobs and `fromPath()` hold nothing open yet.
 */
export function discardContent(content: FileContent): void {
  if (content instanceof Readable) content.destroy();
  else if (typeof ReadableStream !== "undefined" && content instanceof ReadableStream)
    // a locked stream (being read elsewhere) rejects: it is not ours to close then
    content.cancel().catch(() => undefined);
}

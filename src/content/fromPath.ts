import type { LocalFileContent } from "../types";

/** Marks a local file path as content for `save()`: it is streamed, never read whole into memory. */
export function fromPath(path: string): LocalFileContent {
  return { kind: "local-file", path };
}

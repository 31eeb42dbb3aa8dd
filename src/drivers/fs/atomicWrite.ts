import { randomBytes } from "node:crypto";
import { type FileHandle, link, open, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { assertAnnouncedLength } from "../../content/assertAnnouncedLength";
import type { DriverBody } from "../../types";

/** Temp files the driver writes, `.<name>.<16 hex>.tmp`; listings never show them. */
export const TEMP_FILE = /^\..*\.[0-9a-f]{16}\.tmp$/;

const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"]);

/** Creates an empty, exclusive temp file for `key` in `dir`; resolves with its path and handle. */
export async function createTempFile(dir: string, key: string): Promise<{ tmp: string; handle: FileHandle }> {
  const name = [...path.posix.basename(key)].slice(0, 32).join("");
  const tmp = path.join(dir, `.${name}.${randomBytes(8).toString("hex")}.tmp`);
  return { tmp, handle: await open(tmp, "wx") };
}

/**
 * Writes `body` through `handle` and closes it; resolves with the byte count. Rejects with an
 * `AbortError` when `signal` fires, or when a stream ends short of its announced length.
 */
export async function writeBody(handle: FileHandle, body: DriverBody, signal?: AbortSignal): Promise<number> {
  let size: number;
  if (body.kind === "buffer") {
    try {
      await handle.writeFile(body.buffer, { signal });
    } finally {
      await handle.close();
    }
    size = body.buffer.length;
  } else {
    const out = handle.createWriteStream();
    await pipeline(body.stream, out, { signal });
    size = out.bytesWritten;
    assertAnnouncedLength(size, body.length);
  }
  return size;
}

/**
 * Gives the finished temp file its final name without ever replacing an existing file: a hard link
 * is an atomic create that fails with `EEXIST` when the name is taken. Where hard links are not
 * supported, an exclusive placeholder is created and the temp file renamed over it (readers may see
 * it empty for an instant). Either way the temp file is gone afterwards; `EEXIST` leaves it in place.
 */
export async function claimName(tmp: string, target: string): Promise<void> {
  try {
    await link(tmp, target);
    await unlink(tmp).catch(() => undefined);
    return;
  } catch (error) {
    if (!NO_HARD_LINKS.has((error as NodeJS.ErrnoException).code ?? "")) throw error;
  }
  await (await open(target, "wx")).close();
  await rename(tmp, target);
}

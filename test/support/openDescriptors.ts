import { readdir, readlink } from "node:fs/promises";

/**
 * How many descriptors this process holds on `target` (a path, or a test of the path each descriptor
 * points at); 0 where /proc is unavailable. For tests that a failed or aborted operation closes its files.
 */
export async function descriptorsOn(target: string | ((path: string) => boolean)): Promise<number> {
  const fds = await readdir("/proc/self/fd").catch(() => null);
  if (fds === null) return 0;
  const paths = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => "")));
  return paths.filter(typeof target === "string" ? (path) => path === target : target).length;
}

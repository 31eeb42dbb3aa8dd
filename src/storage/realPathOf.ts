import { realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/**
 * The real path of `dir`, which need not exist yet: the longest ancestor that resolves has its
 * symlinks resolved, and the rest is appended as written. Never throws: an ancestor that cannot be
 * resolved (missing, unreadable, a loop) is treated as one that does not exist yet.
 */
export function realPathOf(dir: string): string {
  const missing: string[] = [];
  for (let current = resolve(dir); ; current = dirname(current)) {
    try {
      return join(realpathSync(current), ...missing);
    } catch {
      // the file system root always resolves; this only guards against a pathological platform
      if (dirname(current) === current) return resolve(dir);
      missing.unshift(basename(current));
    }
  }
}

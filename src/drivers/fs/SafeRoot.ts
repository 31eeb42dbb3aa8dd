import { chmod, mkdir, realpath, rmdir } from "node:fs/promises";
import path from "node:path";
import { PathOutsideRootError } from "./PathOutsideRootError";

const MISSING = new Set(["ENOENT", "ENOTDIR", "EISDIR"]);

/** True for the errors that mean "nothing there": ENOENT, ENOTDIR (a file where a directory was expected), EISDIR. */
export function isMissing(error: unknown): boolean {
  return MISSING.has((error as NodeJS.ErrnoException)?.code ?? "");
}

/** True when `target` lies strictly below `root`; both absolute and normalised. */
function isBelow(root: string, target: string): boolean {
  return target.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * Maps keys to paths under a root directory and refuses any path that leaves it. Lexical joins are
 * checked first; then the real path (symlinks resolved) of whatever exists is checked against the
 * real path of the root. Keys reach here already validated, so this is defence in depth; a symlink
 * swapped in between the check and the use is out of its reach.
 */
export class SafeRoot {
  /** The configured root, absolute. */
  readonly location: string;
  readonly #directoryPermissions: number | undefined;
  #real: string | null = null;

  constructor(location: string, directoryPermissions?: number) {
    this.location = path.resolve(location);
    this.#directoryPermissions = directoryPermissions;
  }

  /** The path of `key` under `root` (default: the configured location), without touching the disk. */
  join(key: string, root = this.location): string {
    const target = path.join(root, ...key.split("/"));
    if (!isBelow(root, target)) throw new PathOutsideRootError(key);
    return target;
  }

  /** The real root, created first when `create`; `null` when it does not exist (yet). */
  async root(create: boolean): Promise<string | null> {
    if (this.#real !== null) return this.#real;
    if (create) await this.#makeDirectories(this.location);
    try {
      this.#real = await realpath(this.location);
    } catch (error) {
      if (!create && isMissing(error)) return null;
      throw error;
    }
    return this.#real;
  }

  /** The real path of an existing `key` (a file or a directory), or `null` when it does not exist. */
  async existing(key: string): Promise<string | null> {
    const root = await this.root(false);
    if (root === null) return null;
    try {
      return this.#inside(root, key, await realpath(this.join(key, root)));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  /** The real path of the existing directory that would hold `key`, or `null` when it does not exist. */
  async existingParent(key: string): Promise<string | null> {
    const root = await this.root(false);
    if (root === null) return null;
    const dir = path.dirname(this.join(key, root));
    if (dir === root) return root;
    try {
      return this.#inside(root, key, await realpath(dir));
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  /**
   * The real path of the directory that holds `key`, created when missing. The deepest existing
   * ancestor is checked before `mkdir`, so a symlinked directory cannot make it create anything
   * outside the root.
   */
  async parentFor(key: string): Promise<string> {
    const root = (await this.root(true)) as string;
    const dir = path.dirname(this.join(key, root));
    if (dir === root) return root;
    let ancestor = dir;
    for (;;) {
      try {
        this.#inside(root, key, await realpath(ancestor));
        break;
      } catch (error) {
        if (!isMissing(error) || ancestor === root) throw error;
        ancestor = path.dirname(ancestor);
      }
    }
    if (ancestor !== dir) await this.#makeDirectories(dir);
    return this.#inside(root, key, await realpath(dir));
  }

  /** Removes `dir` and its ancestors while they are empty, stopping below the root (which is kept). */
  async prune(dir: string): Promise<void> {
    const root = this.#real;
    if (root === null) return;
    for (let d = dir; isBelow(root, d); d = path.dirname(d)) {
      try {
        await rmdir(d);
      } catch {
        return;
      }
    }
  }

  #inside(root: string, key: string, real: string): string {
    if (real !== root && !isBelow(root, real)) throw new PathOutsideRootError(key);
    return real;
  }

  async #makeDirectories(dir: string): Promise<void> {
    const first = await mkdir(dir, { recursive: true });
    if (first === undefined || this.#directoryPermissions === undefined) return;
    // mkdir's mode is masked by the umask; chmod each directory it created, as Django does.
    for (let d = dir; ; d = path.dirname(d)) {
      await chmod(d, this.#directoryPermissions);
      if (d === first || path.dirname(d) === d) break;
    }
  }
}

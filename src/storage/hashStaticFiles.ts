import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { md5OfFile } from "../content/md5OfFile";
import { hashedStaticName, STATIC_HASH_LENGTH } from "../keys/hashedStaticName";
import {
  findStaticReferences,
  mayReferenceFiles,
  rewriteReferences,
  type StaticReference,
  type StaticReferenceOptions,
} from "./findStaticReferences";

/** A file of the collected set and its content-hashed copy. */
export interface HashedStaticFile {
  /** The name it was collected under (`css/site.css`). */
  name: string;
  /** The name of its copy (`css/site.0123456789ab.css`). */
  hashedName: string;
  /** The local file. */
  path: string;
  /** The copy's bytes when its references were rewritten; null when the copy is the file as it is. */
  content: Buffer | null;
  /**
   * With `content` null: the file's size and modification time when it was hashed, so that a copy
   * made later can tell it is still the same file (`fileVersion`).
   */
  version: string | null;
}

/** A file's size and modification time, which change when it is written to. */
export async function fileVersion(path: string): Promise<string> {
  const { size, mtimeMs } = await stat(path);
  return `${size}:${mtimeMs}`;
}

/** A file that could not be hashed, and why, in words. */
export interface StaticHashFailure {
  name: string;
  path: string;
  reason: string;
}

interface Scanned {
  name: string;
  path: string;
  /** Set for stylesheets and scripts read as UTF-8 text that refer to other files. */
  text?: string;
  references?: StaticReference[];
  hash?: string;
  version?: string;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Gives every file a copy named after its content (Django's `ManifestStaticFilesStorage`): the first
 * 12 hex digits of its MD5 before the extension. Stylesheets and scripts first get their references
 * to other collected files (`url()`, `@import`, source maps; module specifiers with `jsModules`) rewritten to the hashed names, so a file's
 * hash covers the hashes of what it uses, and the files are hashed in dependency order; one pass,
 * where Django repeats up to five.
 *
 * Never throws for a file: one that refers to a file not collected, to a path above the root, or
 * (through others) to itself is returned as a failure, with the files that refer to it; a source map
 * comment naming a missing file is left as written and returned as a warning instead (Django fails
 * the file). A stylesheet or script that is not valid UTF-8 is hashed as it is, unrewritten, with a
 * warning when it has references (Django fails the file).
 */
export async function hashStaticFiles(
  files: readonly { name: string; path: string }[],
  options: StaticReferenceOptions & { concurrency: number },
): Promise<{ hashed: HashedStaticFile[]; failures: StaticHashFailure[]; warnings: StaticHashFailure[] }> {
  const scanned = new Map<string, Scanned>(files.map((file) => [file.name, { name: file.name, path: file.path }]));
  const failures = new Map<string, string>();
  const warnings: StaticHashFailure[] = [];
  const queue = [...scanned.values()];
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      try {
        const before = await fileVersion(file.path);
        if (mayReferenceFiles(file.name)) {
          const bytes = await readFile(file.path);
          const text = textOf(bytes);
          const references = text === null ? [] : findStaticReferences(file.name, text, options);
          if (text === null) {
            // Django fails such a file; its copy is still right, only its references keep the
            // unhashed names, so say which, read as Latin-1 (every byte a character)
            const urls = findStaticReferences(file.name, bytes.toString("latin1"), options).map((r) => r.url);
            if (urls.length > 0) {
              const listed = urls.length > 3 ? `${urls.slice(0, 3).join(", ")}, ...` : urls.join(", ");
              const reason = `it is not UTF-8, so its references to other files (${listed}) were left as written. Save it as UTF-8 to have them hashed.`;
              warnings.push({ name: file.name, path: file.path, reason });
            }
          }
          if (references.length > 0) {
            // its copy is made of these bytes, rewritten and kept: later edits cannot reach it
            file.text = text as string;
            file.references = references;
          } else {
            // Its copy is the file as it is, read again from disk when stored, so it gets the other
            // files' guard (`version`) rather than its bytes kept for the whole run.
            file.hash = md5(bytes);
          }
        } else {
          file.hash = (await md5OfFile(file.path)).slice(0, STATIC_HASH_LENGTH);
        }
        if (file.hash !== undefined) {
          file.version = await fileVersion(file.path);
          if (file.version !== before) throw new Error("it changed while it was hashed; run collectstatic again");
        }
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        failures.set(file.name, why.startsWith("it changed") ? why : `could not be read: ${why}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, queue.length) }, worker));

  const contents = new Map<string, Buffer>();
  const visiting: string[] = [];
  /**
   * Why `reference` cannot be rewritten (`missing`: its target is not there to hash), or null when
   * its target is hashed (after settling it).
   */
  const problemWith = (reference: StaticReference): { why: string; missing: boolean } | null => {
    if (reference.target === null)
      return { why: `refers to ${JSON.stringify(reference.url)}, above the static root`, missing: true };
    const target = scanned.get(reference.target);
    if (!target)
      return {
        why: `refers to ${reference.target} (${JSON.stringify(reference.url)}), which is not among the collected files`,
        missing: true,
      };
    if (visiting.includes(target.name)) {
      const cycle = [...visiting.slice(visiting.indexOf(target.name)), target.name].join(" → ");
      const why = `is in a cycle of references (${cycle}); a file's hash covers the hashes of the files it refers to, so a cycle has none`;
      return { why, missing: false };
    }
    return settle(target) ? null : { why: `refers to ${target.name}, which could not be hashed`, missing: true };
  };
  /** Hashes `file` after what it refers to; returns false (and records why) when it cannot be hashed. */
  const settle = (file: Scanned): boolean => {
    if (failures.has(file.name)) return false;
    if (file.hash !== undefined) return true;
    visiting.push(file.name);
    try {
      const usable: StaticReference[] = [];
      for (const reference of file.references ?? []) {
        const problem = problemWith(reference);
        if (problem === null) {
          usable.push(reference);
        } else if (reference.sourceMap && problem.missing) {
          // Only developer tools follow a source map, and libraries often ship without theirs (the
          // complaint behind Django ticket #33353): the comment stays as written and the page works.
          const reason = `its source map comment ${problem.why.replace(/^refers to /, "names ")}; the comment was left as written`;
          warnings.push({ name: file.name, path: file.path, reason });
        } else {
          failures.set(file.name, `${problem.why}. Fix or remove the reference, or collect the file it names.`);
          return false;
        }
      }
      const rewritten = Buffer.from(
        rewriteReferences(file.text as string, usable, (target) => scanned.get(target)?.hash as string),
      );
      contents.set(file.name, rewritten);
      file.hash = md5(rewritten);
      return true;
    } finally {
      visiting.pop();
    }
  };

  const hashed: HashedStaticFile[] = [];
  for (const file of scanned.values()) {
    if (!settle(file)) continue;
    hashed.push({
      name: file.name,
      hashedName: hashedStaticName(file.name, file.hash as string),
      path: file.path,
      content: contents.get(file.name) ?? null,
      version: contents.has(file.name) ? null : (file.version ?? null),
    });
  }
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    hashed,
    warnings: warnings.sort(byName),
    failures: [...failures]
      .map(([name, reason]) => ({ name, path: (scanned.get(name) as Scanned).path, reason }))
      .sort(byName),
  };
}

function md5(bytes: Buffer): string {
  return createHash("md5").update(bytes).digest("hex").slice(0, STATIC_HASH_LENGTH);
}

function textOf(bytes: Buffer): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

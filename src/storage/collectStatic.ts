import type { Stats } from "node:fs";
import { readdir, readlink, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { fromPath } from "../content/fromPath";
import { md5OfFile } from "../content/md5OfFile";
import { StorageConfigError } from "../errors/StorageConfigError";
import { validateKey } from "../keys/validateKey";
import type { StoredObject } from "../types";
import { FileSystemStorage } from "./FileSystemStorage";
import { realPathOf } from "./realPathOf";
import { refusedListing } from "./refusedListing";
import { DEFAULT_MANIFEST_NAME } from "./StaticManifest";
import type { Storage } from "./Storage";
import { storeHashedCopies } from "./storeHashedCopies";

/** Django's default `--ignore` patterns: `CVS`, dot files and directories, editor backups. */
export const DEFAULT_STATIC_IGNORE: readonly string[] = ["CVS", ".*", "*~"];

/** Files copied (or compared) in parallel unless `concurrency` says otherwise. */
export const DEFAULT_COLLECT_CONCURRENCY = 8;

export interface CollectStaticOptions {
  /** Report what would be copied (and, with `clear`, deleted); write and delete nothing. */
  dryRun?: boolean;
  /**
   * Delete every object in the storage (under its location) before copying, as Django's `--clear`;
   * then every file is copied.
   */
  clear?: boolean;
  /**
   * Files and directories to leave out, as Django's `--ignore`: glob patterns (`*`, `?`, `[seq]`; `*`
   * crosses `/`) matched against every file's and directory's name and every file's path from its
   * source directory (`vendor/*.map`). Default `DEFAULT_STATIC_IGNORE`; pass `[]` to copy everything.
   */
  ignore?: readonly string[];
  /** Files compared and copied in parallel (1–1000, default 8). */
  concurrency?: number;
  /**
   * Also follow symbolic links whose target lies outside their source directory. Off by default: such
   * a link (`public/config.txt -> ../.env`, a link to `/etc`) is not followed and counts as failed, as
   * ignore patterns match the link's name, never what it leads to. Links within the directory are
   * always followed.
   */
  followSymlinks?: boolean;
  /** Stops starting new copies; those in flight finish, and the summary says `aborted`. */
  signal?: AbortSignal;
  /** Called once per source file (and per deleted object, and hashed copy written) with what was done. */
  onFile?: (result: CollectStaticFileResult) => void;
  /**
   * Also store a content-hashed copy of every file and a manifest naming them (Django's
   * `ManifestStaticFilesStorage`; read it with `StaticManifest.load`). `true`, or the manifest's
   * options. Off by default.
   */
  manifest?: boolean | CollectStaticManifestOptions;
}

export interface CollectStaticManifestOptions {
  /** The manifest's name in the storage (default `staticfiles.json`, Django's). */
  name?: string;
  /**
   * The URL path the storage is served under (`/static/`): references in stylesheets starting with it
   * are hashed too. Without it, absolute paths are left as written (Django's `STATIC_URL`).
   */
  staticUrl?: string;
  /**
   * Also rewrite the specifiers of ES module imports and exports in scripts (`import { f } from
   * "./util.js"`, `export * from "./x.js"`, `import "./x.js"`, `import("./x.js")`) to the hashed names,
   * as Django's `support_js_module_import_aggregation`. Off by default, as in Django: they are found by
   * regular expressions, not a JavaScript parser, and a module graph with a cycle of imports fails.
   * Only specifiers starting with `.` or `/` are rewritten (not bare ones like "vue").
   */
  jsModules?: boolean;
}

/**
 * What happened to one name: `copied` (or would be, in a dry run), `unmodified` (the stored object is
 * the same: same MD5, or, where the backend reports none, not older than the file), `duplicate` (an
 * earlier source directory has a file of that name, which wins), `deleted` (by `clear`),
 * `post-processed` (its hashed copy `hashedName` was stored: it was not there yet), `failed`.
 */
export interface CollectStaticFileResult {
  name: string;
  /** The local file, or null for an object deleted by `clear`. */
  source: string | null;
  status: "copied" | "unmodified" | "duplicate" | "deleted" | "post-processed" | "failed";
  /** With `manifest`: the name of the file's hashed copy. */
  hashedName?: string;
  /** Why it failed, in words. */
  reason?: string;
  error?: unknown;
}

export interface CollectStaticSummary {
  copied: number;
  unmodified: number;
  duplicates: number;
  deleted: number;
  /** Hashed copies stored (`manifest`); those already there are not counted. */
  postProcessed: number;
  failed: number;
  failures: CollectStaticFileResult[];
  /**
   * With `manifest`: what was done differently from what was asked but fails nothing, in words: a
   * source map comment naming a file not collected is left as written, and so are the references of
   * a stylesheet or script that is not UTF-8.
   */
  warnings: { name: string; source: string; reason: string }[];
  dryRun: boolean;
  /** The signal fired before every file was handled. */
  aborted: boolean;
  /**
   * With `manifest`: whether it was written (or would be, in a dry run). It is not when it did not
   * change, nor when a file failed or the run was interrupted: the previous manifest, and the copies
   * it names, then stay in use; with `clear` there is then none, as `clear` deleted everything.
   */
  manifestWritten: boolean;
}

/** One file found in the source directories. */
interface SourceFile {
  name: string;
  path: string;
  size: number;
  mtimeMs: number;
}

/**
 * Python's `fnmatch.fnmatchcase`, which Django's `--ignore` uses: `*` (any characters, `/` included),
 * `?`, and `[seq]` / `[!seq]` classes; a `[` without its `]` is itself.
 */
function patternToRegExp(pattern: string): RegExp {
  let body = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") body += ".*";
    else if (c === "?") body += ".";
    else if (c === "[" && pattern.indexOf("]", i + 2) !== -1) {
      const end = pattern.indexOf("]", i + 2);
      let set = pattern.slice(i + 1, end).replace(/[\\\]^]/g, "\\$&");
      if (set.startsWith("!")) set = `^${set.slice(1)}`;
      body += `[${set}]`;
      i = end;
    } else body += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${body}$`, "s");
}

/**
 * The files under each source directory, by name (their path relative to it, with `/`); a name found
 * in an earlier directory wins, as in Django's finders. Symlinks are followed, except back into a
 * directory being visited (a loop), and, unless `followSymlinks`, out of the source directory; such a
 * link, and one leading nowhere (its target missing, or a loop of links), is handed to `onRefused`
 * with why.
 */
async function findSources(
  sources: readonly string[],
  {
    ignore,
    followSymlinks,
    destination,
  }: { ignore: readonly RegExp[]; followSymlinks: boolean; destination: string | null },
  onDuplicate: (file: SourceFile) => void,
  onRefused: (link: { name: string; path: string; reason: string }) => void,
): Promise<SourceFile[]> {
  const found = new Map<string, SourceFile>();
  for (const source of sources) {
    const root = path.resolve(source);
    const info = await stat(root).catch(() => null);
    if (!info?.isDirectory())
      throw new StorageConfigError(`The static source ${root} is not a directory. Pass existing directories.`);
    // Compared with real paths: the source may itself be reached through a link (pnpm, /var -> /private/var).
    const realRoot = await realpath(root);
    const isInside = (real: string, dir = realRoot) => {
      const relative = path.relative(dir, real);
      return (
        relative === "" || (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
      );
    };
    // Django refuses it too: each run would collect the previous run's copies again, one level deeper,
    // and --clear would start by deleting the sources themselves
    if (destination !== null && isInside(destination))
      throw new StorageConfigError(
        `The static source ${root} contains the directory the files are collected into (${destination}). ` +
          "Collect into a directory outside every source (STATIC_ROOT), or pass the source directories themselves.",
      );
    // the other way round, --clear would start by deleting the source's files
    if (destination !== null && isInside(realRoot, destination))
      throw new StorageConfigError(
        `The static source ${root} lies inside the directory the files are collected into (${destination}): ` +
          "clear would delete the source's files, and every run serves them a second time under their own path. " +
          "Keep the source directories outside the one collected into (STATIC_ROOT).",
      );
    // the real paths of the directories being visited: a link back to one of them is a loop
    const visit = async (dir: string, prefix: string, ancestors: ReadonlySet<string>): Promise<void> => {
      const real = await realpath(dir);
      if (ancestors.has(real)) return;
      const inside = new Set(ancestors).add(real);
      const entries = await readdir(dir, { withFileTypes: true });
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        // Django's get_files: a directory by its name, a file by its name or its path from the source
        if (ignore.some((pattern) => pattern.test(entry.name))) continue;
        const full = path.join(dir, entry.name);
        let target: Stats | null = null;
        let outside: string | null = null;
        if (entry.isSymbolicLink()) {
          const real = await realpath(full).catch(() => null);
          target = real === null ? null : await stat(full).catch(() => null);
          if (target === null) {
            // A failure, as Django's copy fails on it: a link to a build output not built yet would
            // otherwise leave the file out of a run that looks complete.
            const to = await readlink(full).catch(() => "?");
            onRefused({
              name: prefix + entry.name,
              path: full,
              reason:
                `it is a symbolic link to ${to}, which does not exist (or is a loop of links). Create what it ` +
                "leads to (a build step not run?), or remove the link.",
            });
            continue;
          }
          if (!followSymlinks && !isInside(real as string)) outside = real;
        }
        const refuse = () =>
          onRefused({
            name: prefix + entry.name,
            path: full,
            reason:
              `it is a symbolic link to ${outside}, outside the source directory ${root}, so it was not ` +
              "followed (a link to a secret would be published). Remove the link, copy what it leads to into " +
              "the directory, or pass followSymlinks (--follow-symlinks) if every link there is meant to be followed.",
          });
        if (entry.isDirectory() || target?.isDirectory()) {
          if (outside !== null) refuse();
          else await visit(full, `${prefix}${entry.name}/`, inside);
        } else if (entry.isFile() || target?.isFile()) {
          if (prefix !== "" && ignore.some((pattern) => pattern.test(prefix + entry.name))) continue;
          if (outside !== null) {
            refuse();
            continue;
          }
          const { size, mtimeMs } = target ?? (await stat(full));
          const file = { name: prefix + entry.name, path: full, size, mtimeMs };
          if (found.has(file.name)) onDuplicate(file);
          else found.set(file.name, file);
        }
      }
    };
    await visit(root, "", new Set());
  }
  return [...found.values()];
}

/**
 * Copies the files of `sources` into `storage` under their relative names, as Django's `collectstatic`:
 * a name in an earlier directory wins; a file whose stored object is the same is skipped. "The same"
 * is decided from one listing of the storage, with no request per file: the MD5 where the backend
 * reports it (S3 objects written in one request, unencrypted or SSE-S3; memory), a stored size other
 * than the file's then meaning a change whatever the times; otherwise, and for objects the storage may
 * have gzipped (`Storage.mayCompress`), Django's rule, the stored object being no older than the file
 * (to the second). Copies overwrite, whatever
 * the storage's `fileOverwrite`, and get the storage's headers (content type from the name, gzip,
 * Cache-Control, ACL, ...).
 *
 * Throws `StorageConfigError` for a source that is not a directory, a local-disk storage inside a
 * source or containing one, a bad `concurrency`, or a storage
 * it may not list (a missing bucket, refused credentials, no `s3:ListBucket`), and
 * `StorageOperationError` when listing fails otherwise; a file that fails to copy is counted, not thrown.
 */
export async function collectStatic(
  storage: Storage,
  sources: readonly string[],
  options: CollectStaticOptions = {},
): Promise<CollectStaticSummary> {
  const concurrency = options.concurrency ?? DEFAULT_COLLECT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000)
    throw new StorageConfigError(`concurrency must be an integer from 1 to 1000, got ${String(concurrency)}.`);
  if (sources.length === 0) throw new StorageConfigError("collectStatic needs at least one source directory.");
  const dryRun = options.dryRun ?? false;
  const summary: CollectStaticSummary = {
    copied: 0,
    unmodified: 0,
    duplicates: 0,
    deleted: 0,
    postProcessed: 0,
    failed: 0,
    failures: [],
    warnings: [],
    dryRun,
    aborted: false,
    manifestWritten: false,
  };
  const manifest = options.manifest ? manifestOptions(options.manifest) : null;
  const report = (result: CollectStaticFileResult) => {
    if (result.status === "failed") {
      summary.failed++;
      summary.failures.push(result);
    } else if (result.status === "duplicate") summary.duplicates++;
    else if (result.status === "post-processed") summary.postProcessed++;
    else summary[result.status]++;
    options.onFile?.(result);
  };
  const ignore = (options.ignore ?? DEFAULT_STATIC_IGNORE).map(patternToRegExp);
  const files = await findSources(
    sources,
    { ignore, followSymlinks: options.followSymlinks ?? false, destination: localDestination(storage) },
    (file) => report({ name: file.name, source: file.path, status: "duplicate" }),
    // A failure, not a warning: the run must not look complete while a file the pages may use is
    // missing, and nothing short of the user's decision (remove the link, or opt in) makes it pass.
    (link) => report({ name: link.name, source: link.path, status: "failed", reason: link.reason }),
  );

  const listed = await storage.listAll().catch((error: unknown) => {
    throw refusedListing(error) ?? error;
  });
  const stored = new Map<string, StoredObject>(options.clear ? [] : listed.map((object) => [object.name, object]));

  /** Runs `task` over `items`, `concurrency` at a time, starting none once the signal fired. */
  const inParallel = async <T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<void> => {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        if (options.signal?.aborted) {
          summary.aborted = true;
          return;
        }
        await task(items[next++]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  };

  if (options.clear) {
    await inParallel(listed, async ({ name }) => {
      try {
        if (!dryRun) await storage.delete(name);
        report({ name, source: null, status: "deleted" });
      } catch (error) {
        report({ name, source: null, status: "failed", reason: describe(error), error });
      }
    });
    if (summary.aborted) return summary;
  }

  const isUnmodified = async (file: SourceFile, object: StoredObject | undefined): Promise<boolean> => {
    if (!object) return false;
    if (object.md5 !== null) {
      if (object.storedSize === file.size) return object.md5 === (await md5OfFile(file.path));
      // Another size is other bytes, whatever the times say (npm tarballs, `tar`, `cp -p`, rsync -t and
      // Docker layers keep old mtimes), unless the storage may have gzipped the copy: the listing
      // gives the compressed size, and no way to compare, so Django's rule decides.
      if (!storage.mayCompress(file.name)) return false;
    }
    return Math.floor(object.lastModified.getTime() / 1000) >= Math.floor(file.mtimeMs / 1000);
  };

  const collected: SourceFile[] = [];
  await inParallel(files, async (file) => {
    collected.push(file);
    try {
      validateKey(file.name, storage.name);
      if (manifest && file.name === manifest.name)
        throw new StorageConfigError(
          `it has the manifest's name. Rename the file, or give the manifest another name (--manifest-name).`,
        );
      if (await isUnmodified(file, stored.get(file.name))) {
        report({ name: file.name, source: file.path, status: "unmodified" });
        return;
      }
      if (!dryRun) await storage.save(file.name, fromPath(file.path), { overwrite: true, signal: options.signal });
      report({ name: file.name, source: file.path, status: "copied" });
    } catch (error) {
      // an upload the signal stopped leaves nothing behind: the file is not done, not failed
      if (options.signal?.aborted && (error as Error)?.name === "AbortError") summary.aborted = true;
      else report({ name: file.name, source: file.path, status: "failed", reason: describe(error), error });
    }
  });
  if (manifest && !summary.aborted) {
    // a file whose copy failed is left out of the manifest (and fails the files that refer to it)
    const failed = new Set(summary.failures.filter((f) => f.source !== null).map((f) => f.name));
    await storeHashedCopies({
      storage,
      files: collected.filter((file) => !failed.has(file.name)),
      stored,
      manifest,
      dryRun,
      concurrency,
      signal: options.signal,
      inParallel,
      report,
      summary,
    });
  }
  return summary;
}

function manifestOptions(option: true | CollectStaticManifestOptions): CollectStaticManifestOptions & { name: string } {
  const given = option === true ? {} : option;
  const { staticUrl } = given;
  if (staticUrl !== undefined && !/^\/(?:.*\/)?$/.test(staticUrl))
    throw new StorageConfigError(
      `manifest.staticUrl must be a URL path starting and ending with "/" (like "/static/"), not ${JSON.stringify(staticUrl)}. ` +
        "References by full URL are left as written.",
    );
  const name = given.name ?? DEFAULT_MANIFEST_NAME;
  try {
    validateKey(name, null);
  } catch (error) {
    throw new StorageConfigError(
      `The manifest's name ${JSON.stringify(name)} cannot be a key: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return { ...given, name };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The real path of the directory a local-disk storage collects into (resolved as far as it exists), else null. */
function localDestination(storage: Storage): string | null {
  return storage instanceof FileSystemStorage ? realPathOf(storage.location) : null;
}

import { createHash } from "node:crypto";
import { fromPath } from "../content/fromPath";
import { validateKey } from "../keys/validateKey";
import type { StoredObject } from "../types";
import type { CollectStaticFileResult, CollectStaticSummary } from "./collectStatic";
import { fileVersion, hashStaticFiles } from "./hashStaticFiles";
import { StaticManifest } from "./StaticManifest";
import type { Storage } from "./Storage";

/** What `collectStatic` hands its manifest stage: the copied files, the listing, and its bookkeeping. */
export interface HashedCopiesRun {
  storage: Storage;
  /** The files whose plain copy did not fail. */
  files: readonly { name: string; path: string }[];
  /** The storage's objects before the run, by name (empty after `clear`). */
  stored: ReadonlyMap<string, StoredObject>;
  manifest: { name: string; staticUrl?: string; jsModules?: boolean };
  dryRun: boolean;
  concurrency: number;
  signal?: AbortSignal;
  inParallel: <T>(items: readonly T[], task: (item: T) => Promise<void>) => Promise<void>;
  report: (result: CollectStaticFileResult) => void;
  summary: CollectStaticSummary;
}

/**
 * The manifest stage of `collectStatic`, after the plain copies as in Django: hashes the files
 * (`hashStaticFiles`), stores the hashed copies not stored yet, then writes the manifest, last, so that
 * no page names a copy before it exists, and only when nothing failed. Reports through `run.report`
 * and `run.summary`; never throws for a file, nor for the manifest's own write (counted as failed).
 */
export async function storeHashedCopies(run: HashedCopiesRun): Promise<void> {
  const { storage, stored, manifest, dryRun, signal, summary, report } = run;
  const { hashed, failures, warnings } = await hashStaticFiles(run.files, {
    staticUrl: manifest.staticUrl,
    jsModules: manifest.jsModules,
    concurrency: run.concurrency,
  });
  for (const { name, path: source, reason } of warnings) summary.warnings.push({ name, source, reason });
  for (const failure of failures)
    report({ name: failure.name, source: failure.path, status: "failed", reason: failure.reason });
  // a hashed name holds one content: present means stored, whatever the listing says of its time
  await run.inParallel(
    hashed.filter((file) => !stored.has(file.hashedName)),
    async (file) => {
      const result = { name: file.name, source: file.path, hashedName: file.hashedName };
      try {
        validateKey(file.hashedName, storage.name);
        // A copy named after content it does not hold would be cached for a year: the file must be
        // the one hashed, before and after it is sent.
        const unchanged = async () => file.version === null || (await fileVersion(file.path)) === file.version;
        const changed = "it changed after it was hashed, so its copy would not match its name; run collectstatic again";
        if (!dryRun) {
          if (!(await unchanged())) throw new Error(changed);
          await storage.save(file.hashedName, file.content ?? fromPath(file.path), { overwrite: true, signal });
          if (!(await unchanged())) {
            await storage.delete(file.hashedName).catch(() => undefined);
            throw new Error(changed);
          }
        }
        report({ ...result, status: "post-processed" });
      } catch (error) {
        if (signal?.aborted && (error as Error)?.name === "AbortError") summary.aborted = true;
        else report({ ...result, status: "failed", reason: describe(error), error });
      }
    },
  );
  if (summary.aborted || summary.failed > 0) return;
  const text = StaticManifest.serialize(new Map(hashed.map((file) => [file.name, file.hashedName])));
  if (await sameManifest(storage, stored.get(manifest.name), text)) return;
  try {
    if (!dryRun)
      await storage.save(manifest.name, Buffer.from(text), { overwrite: true, contentType: "application/json" });
    summary.manifestWritten = true;
  } catch (error) {
    report({ name: manifest.name, source: null, status: "failed", reason: describe(error), error });
  }
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Whether the stored manifest has this text: by the listing's MD5 where there is one, else read. */
async function sameManifest(storage: Storage, object: StoredObject | undefined, text: string): Promise<boolean> {
  if (!object) return false;
  // a gzipped manifest's ETag is the MD5 of its compressed bytes: its size gives it away
  if (object.md5 !== null && object.storedSize === Buffer.byteLength(text))
    return object.md5 === createHash("md5").update(text).digest("hex");
  const current = await storage.read(object.name).catch(() => null);
  return current !== null && current.toString("utf8") === text;
}

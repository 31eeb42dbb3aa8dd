import type { S3HeaderChange } from "../drivers/s3/planMetadataUpdate";
import { StorageConfigError } from "../errors/StorageConfigError";
import type { S3Storage } from "../storage/S3Storage";
import { StorageRegistry } from "../storage/StorageRegistry";
import {
  DEFAULT_SYNC_CONCURRENCY,
  type SyncMetadataObjectResult,
  type SyncMetadataSummary,
  syncMetadata,
} from "../storage/syncMetadata";
import type { CliIo, CliStream } from "./CliIo";
import { concurrencyOption, parseCommandArgs } from "./commandArgs";
import { loadStorages } from "./loadStorages";
import { ProgressReporter } from "./ProgressReporter";
import { UsageError } from "./UsageError";

export const SYNC_META_USAGE = `Usage: typeorm-storages sync-meta <storage> [prefix] [options]

Rewrites the headers of the objects of an S3 storage (under [prefix], relative to its location) to the
storage's current settings: Cache-Control, Content-Disposition, Content-Language, metadata, ACL,
encryption and storage class. Content-Type, Content-Encoding and tags are kept. Objects already up to
date are skipped (with an ACL configured, every object is rewritten: HEAD cannot read ACLs). A copy
does not keep an object's ACL: without a configured ACL, rewritten objects get the bucket's default
(private where ACLs are enabled). Run with --dry-run first.

Options:
  --dry-run            Show what would change; write nothing.
  --concurrency <n>    Objects examined and rewritten in parallel (default ${DEFAULT_SYNC_CONCURRENCY}).
  --config <module>    A JavaScript module exporting the storages, as its default export or as
                       "storages" ({ name: Storage | () => Storage }). Without it, the storages come
                       from the environment (storagesFromEnv: default, private, staticfiles).
  --verbose            List every updated object with its changes (a dry run always does).
  --quiet              No progress output.
  -h, --help           Show this help.

Exit codes: 0 every object is up to date; 1 some objects failed (see the summary) or the run failed;
2 bad arguments or configuration (unknown storage, not S3, bucket not listable, credentials refused or
expired during the run: it stops, lists the objects not attempted, and a new run resumes); 130 interrupted.
`;

const OPTIONS = {
  "dry-run": { type: "boolean" },
  concurrency: { type: "string" },
  config: { type: "string" },
  verbose: { type: "boolean" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** How many failures the summary lists one by one; beyond that they are grouped by reason. */
const LISTED_FAILURES = 20;

const shown = (value: string | null | undefined) =>
  value === undefined ? "(unknown: HEAD cannot read it)" : value === null ? "(none)" : value;

function printChanges(out: CliStream, verb: string, result: SyncMetadataObjectResult): void {
  const lines = result.changes.map((c: S3HeaderChange) => `    ${c.header}: ${shown(c.from)} -> ${shown(c.to)}\n`);
  out.write(`${verb} ${result.key}\n${lines.join("")}`);
}

function printSummary(out: CliStream, name: string, summary: SyncMetadataSummary): void {
  const where = `bucket "${summary.bucket}"${summary.prefix ? `, prefix "${summary.prefix}"` : ""}`;
  const lines = [
    `sync-meta storage "${name}" (${where})${summary.dryRun ? ": dry run, nothing was written" : ""}` +
      `${summary.aborted ? ": interrupted before every object was examined" : ""}`,
    `  examined   ${summary.examined}`,
    `  ${summary.dryRun ? "to update " : "updated   "} ${summary.updated}`,
    `  unchanged  ${summary.unchanged}`,
    `  missing    ${summary.missing}${summary.missing > 0 ? " (deleted while sync-meta ran)" : ""}`,
    `  failed     ${summary.failed}`,
  ];
  for (const failure of summary.failures.slice(0, LISTED_FAILURES)) lines.push(`    ${failure.key}: ${failure.reason}`);
  if (summary.failures.length > LISTED_FAILURES) {
    const byReason = new Map<string, number>();
    for (const { reason } of summary.failures) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    lines.push(`    ... ${summary.failures.length - LISTED_FAILURES} more; all failures by reason:`);
    for (const [reason, count] of [...byReason].sort((a, b) => b[1] - a[1])) lines.push(`    ${count} x ${reason}`);
  }
  if (summary.stopped) {
    lines.push(`  not attempted ${summary.notAttempted.length}`);
    for (const key of summary.notAttempted.slice(0, LISTED_FAILURES)) lines.push(`    ${key}`);
    if (summary.notAttempted.length > LISTED_FAILURES)
      lines.push(`    ... ${summary.notAttempted.length - LISTED_FAILURES} more`);
    lines.push(`Stopped: ${summary.stopped.message}`);
  }
  out.write(`${lines.join("\n")}\n`);
}

/**
 * `typeorm-storages sync-meta <storage> [prefix]`: resolves the storage (config module or environment),
 * runs `syncMetadata` with a progress display, prints the summary, and resolves with the exit code.
 * Throws `UsageError` for bad arguments and `StorageConfigError` for a storage it must refuse.
 */
export async function syncMetaCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (values.help) {
    io.stdout.write(SYNC_META_USAGE);
    return 0;
  }
  if (positionals.length === 0)
    throw new UsageError("sync-meta needs the name of a storage, e.g. `sync-meta default`.");
  if (positionals.length > 2)
    throw new UsageError(`sync-meta takes <storage> [prefix], got ${positionals.length} arguments.`);
  const [name, prefix = ""] = positionals;
  const concurrency = concurrencyOption(values.concurrency, DEFAULT_SYNC_CONCURRENCY);
  const dryRun = values["dry-run"] ?? false;

  const registry = new StorageRegistry();
  registry.configure(await loadStorages(values.config, io.env, io.cwd));
  try {
    const storage = registry.get(name);
    if (storage.driver.kind !== "s3") {
      throw new StorageConfigError(
        `Storage "${name}" is a ${storage.driver.kind} storage, but sync-meta rewrites the headers of S3 objects.` +
          (values.config === undefined
            ? " Without --config the storages come from the environment: set USE_S3=true and " +
              "AWS_STORAGE_BUCKET_NAME (see storagesFromEnv), or pass --config <module>."
            : ""),
        { storage: name },
      );
    }
    const progress = values.quiet ? null : new ProgressReporter(io.stderr, { label: "sync-meta" });
    const summary = await syncMetadata(storage as S3Storage, prefix, {
      dryRun,
      concurrency,
      signal: io.signal,
      onProgress: (p) => progress?.update(p),
      onObject: (result) => {
        if (result.status !== "updated" || !(dryRun || values.verbose)) return;
        progress?.clear();
        printChanges(io.stdout, dryRun ? "would update" : "updated", result);
      },
    });
    progress?.finish();
    printSummary(io.stdout, name, summary);
    if (summary.aborted) return 130;
    // refused or expired credentials, as when they are refused before the run: the configuration
    if (summary.stopped) return 2;
    return summary.failed > 0 ? 1 : 0;
  } finally {
    await registry.close();
  }
}

import { DEFAULT_ORPHAN_MIN_AGE, type ReconcileStorageReport, reconcileFiles } from "../fields/reconcileFiles";
import { storages } from "../storage/storages";
import { storagesFromEnv } from "../storage/storagesFromEnv";
import type { CliIo, CliStream } from "./CliIo";
import { concurrencyOption, parseCommandArgs } from "./commandArgs";
import { loadDataSource } from "./loadDataSource";
import { loadStorages } from "./loadStorages";
import { UsageError } from "./UsageError";

export const ORPHANS_USAGE = `Usage: typeorm-storages orphans --config <module> [options]

Compares the objects of every storage the entities' file columns use with the keys their rows hold:
lists objects no row names (orphans: rows deleted with raw SQL or by a cascade, crashed requests,
uploads never attached) and rows whose object is missing. Each storage is listed once, under the
fields' uploadTo directories when all of them are templates; the key columns are read page by page.
Objects saved into the same storage by other code count as orphans too: look before --delete.

Options:
  --config <module>    A JavaScript module exporting the app's DataSource as "dataSource". Required.
                       Its storages: those it exports (default export or "storages"), else those it
                       configures with storages.configure() when imported, else the environment's.
  --delete             Delete the orphans (not in a storage whose field has keepFiles).
  --min-age <age>      Only objects at least this old count as orphans, as seconds or with a unit
                       (30m, 12h, 7d); default 1d: an upload is stored before its row is written.
  --storage <name>     Only this storage; repeatable.
  --concurrency <n>    Deletions in parallel (default 8).
  --verbose            List every orphan and missing file (default: the first 20 of each).
  -h, --help           Show this help.

Exit codes: 0 done (orphans and missing files are findings, not failures); 1 a deletion failed;
2 bad arguments or configuration (a missing bucket, refused credentials or listing denied);
130 interrupted (Ctrl-C stops the deletions: those in flight finish, the rest are left).
`;

const OPTIONS = {
  config: { type: "string" },
  delete: { type: "boolean" },
  "min-age": { type: "string" },
  storage: { type: "string", multiple: true },
  concurrency: { type: "string" },
  verbose: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

function minAgeOption(value: string | undefined): number {
  if (value === undefined) return DEFAULT_ORPHAN_MIN_AGE;
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!match) throw new UsageError(`--min-age takes seconds or a number with s, m, h or d, like 12h; got "${value}".`);
  return Number(match[1]) * UNITS[match[2] || "s"];
}

function printReport(out: CliStream, report: ReconcileStorageReport, deleting: boolean, all: boolean): void {
  const shown = <T>(items: T[]) => (all ? items : items.slice(0, 20));
  const more = (items: unknown[]) => (!all && items.length > 20 ? [`    ... and ${items.length - 20} more`] : []);
  const where = report.prefixes.map((p) => (p === "" ? "(all)" : p)).join(", ");
  const lines = [
    `storage "${report.storage ?? "(unnamed)"}": ${report.fields.join(", ")}; listed ${where}`,
    `  ${report.objects} objects, ${report.referenced} keys in the database`,
    `  ${report.orphans.length} orphans${report.recent > 0 ? ` (${report.recent} more too recent to judge)` : ""}`,
    ...shown(report.orphans).map((o) => `    ${o.name} (${o.storedSize} bytes, ${o.lastModified.toISOString()})`),
    ...more(report.orphans),
  ];
  if (deleting) {
    lines.push(
      report.notDeleted !== null
        ? `  none deleted: ${report.notDeleted}`
        : report.aborted
          ? `  ${report.deleted} deleted, ${report.orphans.length - report.deleted - report.failures.length} left: interrupted`
          : `  ${report.deleted} deleted`,
      ...(report.keptOnRecheck > 0
        ? [`  ${report.keptOnRecheck} kept: a row named them when asked again before deleting`]
        : []),
      ...report.failures.map((f) => `    could not delete ${f.name}: ${f.reason}`),
    );
  }
  lines.push(
    `  ${report.missing.length} rows name a missing object`,
    ...shown(report.missing).map((m) => `    ${m.field} ${JSON.stringify(m.id)}: ${m.key}`),
    ...more(report.missing),
  );
  out.write(`${lines.join("\n")}\n`);
}

/**
 * `typeorm-storages orphans --config <module>`: loads the module's DataSource and storages,
 * initializes the DataSource if needed (and destroys it after), runs `reconcileFiles`, prints a report
 * per storage, and resolves with the exit code. Throws `UsageError` for bad arguments and
 * `StorageConfigError` for a module or storage it must refuse, or a storage it may not list for its
 * configuration (`refusedListing`).
 */
export async function orphansCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (values.help) {
    io.stdout.write(ORPHANS_USAGE);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`orphans takes no arguments besides options, got "${positionals[0]}".`);
  if (values.config === undefined)
    throw new UsageError("orphans needs --config <module>: a module exporting the app's DataSource and storages.");
  const minAge = minAgeOption(values["min-age"]);
  const concurrency = concurrencyOption(values.concurrency, 8);
  const deleting = values.delete ?? false;
  const dataSource = await loadDataSource(values.config, io.cwd);
  // The module's storages; else those it configured itself when imported; else the environment's.
  const exported = await loadStorages(values.config, io.env, io.cwd, { required: false });
  if (exported !== null) storages.configure(exported);
  else if (storages.names().length === 0) storages.configure(storagesFromEnv(io.env));
  const initializedHere = !dataSource.isInitialized;
  if (initializedHere) {
    // a read of the rows: never change the schema on the way (the app's options may say to)
    dataSource.setOptions({ synchronize: false, migrationsRun: false, dropSchema: false });
    await dataSource.initialize();
  }
  try {
    const reports = await reconcileFiles(dataSource, {
      minAge,
      deleteOrphans: deleting,
      storages: values.storage,
      concurrency,
      signal: io.signal,
    });
    for (const report of reports) printReport(io.stdout, report, deleting, values.verbose ?? false);
    if (io.signal?.aborted) {
      // Ctrl-C: deletions stop (those in flight finish); storages not reached are not reported
      io.stdout.write("Interrupted: what was done is reported above; storages not reported were not compared.\n");
      return 130;
    }
    if (reports.length === 0) io.stdout.write("No entity of this DataSource has file columns.\n");
    return reports.some((report) => report.failures.length > 0) ? 1 : 0;
  } finally {
    if (initializedHere) await dataSource.destroy();
    await storages.close();
  }
}

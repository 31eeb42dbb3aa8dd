import { resolve } from "node:path";
import { StorageConfigError } from "../errors/StorageConfigError";
import {
  type CollectStaticFileResult,
  type CollectStaticSummary,
  collectStatic,
  DEFAULT_COLLECT_CONCURRENCY,
  DEFAULT_STATIC_IGNORE,
} from "../storage/collectStatic";
import { DEFAULT_MANIFEST_NAME } from "../storage/StaticManifest";
import type { Storage } from "../storage/Storage";
import { StorageRegistry } from "../storage/StorageRegistry";
import { placeWithin, type StoragePlace, storagePlace } from "../storage/storagePlace";
import type { CliIo, CliStream } from "./CliIo";
import { concurrencyOption, parseCommandArgs } from "./commandArgs";
import { loadStorages } from "./loadStorages";
import { UsageError } from "./UsageError";

export const COLLECT_STATIC_USAGE = `Usage: typeorm-storages collectstatic <source-dir>... [options]

Copies the files of the source directories into a storage (default "staticfiles") under their paths
relative to their directory, like Django's collectstatic. A path found in an earlier directory wins.
Files whose stored copy is the same are skipped, decided from one listing of the storage (no request
per file): by MD5 where the storage reports it (S3 objects uploaded in one request, without KMS or a
customer key), a copy of another size then being replaced however old the file; otherwise (gzipped
or multipart objects, local disk) when the stored copy is not older than the file. Copies overwrite
and get the storage's headers (content type, gzip, Cache-Control, ACL).

Options:
  --storage <name>     The storage to copy into (default "staticfiles").
  -c, --clear          Delete every object of the storage (everything under its location) first,
                       without asking (it never asks: Django's --noinput / --no-input are accepted);
                       refused where another configured storage keeps its files there.
  -n, --dry-run        Show what would be copied or deleted; change nothing.
  -i, --ignore <pattern>
                       Leave out files and directories whose name, and files whose path from the
                       source directory, match (*, ?, [seq]; e.g. "*.scss", "vendor/*.map"); repeatable.
  --no-default-ignore  Do not leave out ${DEFAULT_STATIC_IGNORE.map((p) => `"${p}"`).join(", ")} (the default patterns).
  --concurrency <n>    Files compared and copied in parallel (default ${DEFAULT_COLLECT_CONCURRENCY}).
  --follow-symlinks    Also follow symbolic links that lead out of their source directory. Without
                       it such a link (public/config.txt -> ../.env) is not followed and fails, as
                       --ignore matches the link's name, not what it leads to; links within the
                       directory are always followed.
  --manifest           Also store a copy of every file named after its content (css/site.css as
                       css/site.0123456789ab.css; references in stylesheets and source map comments
                       rewritten to such names) and a manifest of them, which StaticManifest reads,
                       like Django's ManifestStaticFilesStorage. The manifest is written last, and
                       only when every file succeeded.
  --manifest-name <n>  The manifest's name in the storage (default "${DEFAULT_MANIFEST_NAME}").
  --static-url <path>  The URL path the storage is served under (e.g. /static/): stylesheet
                       references starting with it are hashed too (else left as written).
  --js-modules         Also rewrite ES module imports and exports in scripts (import ... from
                       "./util.js", import("./x.js")) to the hashed names, as Django's opt-in
                       support_js_module_import_aggregation; bare specifiers ("vue") are left alone.
  --config <module>    A JavaScript module exporting the storages, as its default export or as
                       "storages" ({ name: Storage | () => Storage }). Without it, the storages come
                       from the environment (storagesFromEnv: default, private, staticfiles).
  --verbose            List every copied and deleted file, and every file left out because an earlier
                       source has its path (a dry run always does).
  -h, --help           Show this help.

Exit codes: 0 done; 1 some files failed (see the summary); 2 bad arguments or configuration (a
missing bucket, refused credentials, or listing denied included); 130 interrupted.
`;

const OPTIONS = {
  storage: { type: "string" },
  clear: { type: "boolean", short: "c" },
  "dry-run": { type: "boolean", short: "n" },
  ignore: { type: "string", multiple: true, short: "i" },
  // Django's: this command never prompts, so a deploy script's `collectstatic --noinput` runs as it is
  noinput: { type: "boolean" },
  "no-input": { type: "boolean" },
  "no-default-ignore": { type: "boolean" },
  concurrency: { type: "string" },
  "follow-symlinks": { type: "boolean" },
  manifest: { type: "boolean" },
  "manifest-name": { type: "string" },
  "static-url": { type: "string" },
  "js-modules": { type: "boolean" },
  config: { type: "string" },
  verbose: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** How many failures the summary lists one by one. */
const LISTED_FAILURES = 20;

function printSummary(
  out: CliStream,
  name: string,
  summary: CollectStaticSummary,
  { manifest, cleared, verbose }: { manifest: boolean; cleared: boolean; verbose: boolean },
): void {
  const dry = summary.dryRun;
  const line = (count: number, what: string) => `  ${String(count).padStart(6)} ${what}`;
  const lines = [
    `collectstatic into storage "${name}"${dry ? ": dry run, nothing was changed" : ""}` +
      `${summary.aborted ? ": interrupted before every file was handled" : ""}`,
    line(summary.copied, dry ? "to copy" : "copied"),
    line(summary.unmodified, "unmodified"),
  ];
  if (summary.deleted > 0) lines.push(line(summary.deleted, dry ? "to delete" : "deleted"));
  if (summary.duplicates > 0)
    lines.push(
      line(
        summary.duplicates,
        `left out: an earlier source has the same path${verbose ? "" : " (--verbose lists them)"}`,
      ),
    );
  if (manifest) lines.push(line(summary.postProcessed, dry ? "hashed copies to store" : "hashed copies stored"));
  lines.push(line(summary.failed, "failed"));
  for (const failure of summary.failures.slice(0, LISTED_FAILURES))
    lines.push(`    ${failure.name}: ${failure.reason}`);
  if (summary.failures.length > LISTED_FAILURES)
    lines.push(`    ... and ${summary.failures.length - LISTED_FAILURES} more`);
  for (const warning of summary.warnings.slice(0, LISTED_FAILURES))
    lines.push(`  warning: ${warning.name}: ${warning.reason}`);
  if (summary.warnings.length > LISTED_FAILURES)
    lines.push(`  ... and ${summary.warnings.length - LISTED_FAILURES} more warnings`);
  if (manifest) {
    const state = summary.manifestWritten
      ? dry
        ? "would be written"
        : "written"
      : summary.failed > 0 || summary.aborted
        ? cleared
          ? "not written, and --clear deleted the previous one: fix the failures and run again"
          : "not written: the previous one stays in use"
        : "unchanged";
    lines.push(`  manifest ${state}`);
  }
  out.write(`${lines.join("\n")}\n`);
}

/**
 * Throws `StorageConfigError` when another configured storage keeps its objects at or inside the
 * location of `storage` (media under a static bucket root, MEDIA_ROOT inside STATIC_ROOT): `--clear`
 * deletes everything there, their files included. A storage that cannot be built is not compared.
 */
function refuseClearingOthers(registry: StorageRegistry, name: string, storage: Storage): void {
  const here = storagePlace(storage);
  for (const other of registry.names()) {
    if (other === name) continue;
    let there: StoragePlace;
    try {
      there = storagePlace(registry.get(other));
    } catch {
      continue;
    }
    if (placeWithin(there, here))
      throw new StorageConfigError(
        `--clear would delete the files of storage "${other}" too: its location lies inside the one of "${name}", ` +
          "and --clear deletes every object there. Give the static files a location of their own " +
          "(AWS_STATIC_LOCATION, STATIC_ROOT), or leave out --clear.",
        { storage: name },
      );
  }
}

/**
 * `typeorm-storages collectstatic <source-dir>...`: resolves the storage (config module or
 * environment), runs `collectStatic`, prints the summary, and resolves with the exit code. Throws
 * `UsageError` for bad arguments and `StorageConfigError` for a source or storage it must refuse.
 */
export async function collectStaticCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (values.help) {
    io.stdout.write(COLLECT_STATIC_USAGE);
    return 0;
  }
  if (positionals.length === 0)
    throw new UsageError("collectstatic needs at least one source directory, e.g. `collectstatic public/static`.");
  const concurrency = concurrencyOption(values.concurrency, DEFAULT_COLLECT_CONCURRENCY);
  const dryRun = values["dry-run"] ?? false;
  const name = values.storage ?? "staticfiles";
  const ignore = [...(values["no-default-ignore"] ? [] : DEFAULT_STATIC_IGNORE), ...(values.ignore ?? [])];
  if (
    !values.manifest &&
    (values["manifest-name"] !== undefined || values["static-url"] !== undefined || values["js-modules"] !== undefined)
  )
    throw new UsageError("--manifest-name, --static-url and --js-modules go with --manifest.");
  const manifest = values.manifest
    ? { name: values["manifest-name"], staticUrl: values["static-url"], jsModules: values["js-modules"] ?? false }
    : false;

  const registry = new StorageRegistry();
  registry.configure(await loadStorages(values.config, io.env, io.cwd));
  try {
    const storage = registry.get(name);
    if (values.clear) refuseClearingOthers(registry, name, storage);
    const show = (result: CollectStaticFileResult) => {
      if (!(dryRun || values.verbose)) return;
      if (result.status === "copied") io.stdout.write(`${dryRun ? "would copy" : "copied"} ${result.name}\n`);
      if (result.status === "deleted") io.stdout.write(`${dryRun ? "would delete" : "deleted"} ${result.name}\n`);
      if (result.status === "duplicate")
        io.stdout.write(`left out ${result.name} from ${result.source}: an earlier source has it\n`);
      if (result.status === "post-processed")
        io.stdout.write(`${dryRun ? "would store" : "stored"} ${result.hashedName} (${result.name})\n`);
    };
    const summary = await collectStatic(
      storage,
      positionals.map((source) => resolve(io.cwd, source)),
      {
        dryRun,
        clear: values.clear ?? false,
        ignore,
        concurrency,
        followSymlinks: values["follow-symlinks"] ?? false,
        manifest,
        signal: io.signal,
        onFile: show,
      },
    );
    printSummary(io.stdout, name, summary, {
      manifest: manifest !== false,
      cleared: (values.clear ?? false) && !dryRun,
      verbose: dryRun || (values.verbose ?? false),
    });
    if (summary.aborted) return 130;
    return summary.failed > 0 ? 1 : 0;
  } finally {
    await registry.close();
  }
}

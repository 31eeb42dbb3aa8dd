import { checkStorage, type StorageCheck } from "../storage/checkStorage";
import { StorageRegistry } from "../storage/StorageRegistry";
import type { CliIo } from "./CliIo";
import { parseCommandArgs } from "./commandArgs";
import { loadStorages } from "./loadStorages";
import { UsageError } from "./UsageError";

export const CHECK_USAGE = `Usage: typeorm-storages check [<storage>...] [options]

Checks each storage (default: every configured one) against its backend. On S3: the bucket answers,
listing is allowed (without it missing objects answer 403, not 404), and a configured ACL is not sent
to a bucket that refuses ACLs. With --write it also writes, reads and deletes a probe object under
".typeorm-storages-check/", and fetches its URL: public URLs must load, private objects must not load
without a signature. URLs are fetched from this machine, which may reach other hosts than browsers do.

Options:
  --write              Also write, read, fetch and delete a probe object.
  --origin <url>       The site whose pages send direct uploads (https://example.com): checks that
                       the bucket's CORS lets them PUT; with --write, also uploads a probe through a
                       signed upload URL.
  --config <module>    A JavaScript module exporting the storages (default: from the environment,
                       storagesFromEnv: default, private, staticfiles).
  -h, --help           Show this help.

Exit codes: 0 nothing failed (warnings and unknowns are printed); 1 a check failed; 2 bad arguments
or configuration; 130 interrupted (Ctrl-C lets the storage being checked finish, and checks no other).
`;

const OPTIONS = {
  write: { type: "boolean" },
  origin: { type: "string" },
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const MARK: Record<StorageCheck["status"], string> = {
  ok: "ok",
  warning: "warning",
  failed: "FAILED",
  unknown: "unknown",
};

/**
 * `typeorm-storages check [<storage>...]`: runs `checkStorage` on each storage, prints the findings,
 * and resolves with the exit code. Throws `UsageError` for bad arguments and `StorageConfigError` for
 * an unknown storage or a bad configuration.
 */
export async function checkCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS);
  if (values.help) {
    io.stdout.write(CHECK_USAGE);
    return 0;
  }
  if (values.origin !== undefined && !/^https?:\/\/[^/]+$/.test(values.origin))
    throw new UsageError(`--origin takes an origin like https://example.com, not ${JSON.stringify(values.origin)}.`);
  const registry = new StorageRegistry();
  registry.configure(await loadStorages(values.config, io.env, io.cwd));
  try {
    const names = positionals.length > 0 ? positionals : registry.names();
    const storages = names.map((name) => registry.get(name));
    let failed = false;
    for (const [i, storage] of storages.entries()) {
      // Ctrl-C: the storage being checked finishes (its probe object is deleted), the others are not begun
      if (io.signal?.aborted) {
        io.stdout.write("Interrupted: storages not reported above were not checked.\n");
        return 130;
      }
      const findings = await checkStorage(storage, { write: values.write ?? false, origin: values.origin });
      failed ||= findings.some((finding) => finding.status === "failed");
      const lines = [`storage "${names[i]}" (${storage.driver.kind})`];
      for (const { check, status, detail } of findings) lines.push(`  ${MARK[status].padEnd(7)} ${check}: ${detail}`);
      io.stdout.write(`${lines.join("\n")}\n`);
    }
    return failed ? 1 : 0;
  } finally {
    await registry.close();
  }
}

#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isFileStorageError } from "../errors/FileStorageError";
import type { CliIo, CliStream } from "./CliIo";
import { checkCommand } from "./checkCommand";
import { collectStaticCommand } from "./collectStaticCommand";
import { orphansCommand } from "./orphansCommand";
import { syncMetaCommand } from "./syncMetaCommand";
import { UsageError } from "./UsageError";

const USAGE = `Usage: typeorm-storages <command> [options]

Commands:
  check [<storage>...]           Check storages against their backends: bucket, listing, ACLs, and with
                                 --write a probe upload and its URL (typeorm-storages check --help)
  collectstatic <source-dir>...  Copy static files into the "staticfiles" storage, skipping those
                                 already there (typeorm-storages collectstatic --help for its options)
  orphans --config <module>      Find (and with --delete remove) objects no row names, and rows
                                 whose object is missing (typeorm-storages orphans --help)
  sync-meta <storage> [prefix]   Rewrite the headers of existing S3 objects to the storage's current
                                 settings (typeorm-storages sync-meta --help for its options)

Options:
  -h, --help      Show this help (typeorm-storages help <command>: that command's).
  --version       Show the version.

Exit codes: 0 success; 1 the command ran but something failed; 2 bad arguments or configuration.
`;

const COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  check: checkCommand,
  collectstatic: collectStaticCommand,
  orphans: orphansCommand,
  "sync-meta": syncMetaCommand,
};

function version(): string {
  // dist/cli/main.js and src/cli/main.ts are both two levels below package.json.
  return (JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string }).version;
}

function describeError(error: unknown): string {
  const lines = [error instanceof Error ? error.message : String(error)];
  let cause = (error as { cause?: unknown } | null)?.cause;
  for (let depth = 0; cause !== undefined && depth < 3; depth++) {
    const status = (cause as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
    // The SDK says "UnknownError" for error responses without a body (HEAD, some 404s).
    const message =
      cause instanceof Error && cause.message === "UnknownError" ? `HTTP ${status}` : (cause as Error).message;
    const text = cause instanceof Error ? `${cause.name}: ${message}` : String(cause);
    if (!lines[0].includes(text)) lines.push(`  caused by ${text}`);
    cause = (cause as { cause?: unknown } | null)?.cause;
  }
  return lines.join("\n");
}

/**
 * Runs the `typeorm-storages` command line `argv` (without `node` and the script) and resolves with the
 * exit code: 0 success, 1 a failure while running, 2 bad arguments or configuration (a `UsageError` or
 * a `StorageConfigError`, reported on stderr). Never throws.
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv;
  const known = (name: string | undefined) => name !== undefined && Object.hasOwn(COMMANDS, name);
  try {
    if (command === "help" && known(args[0])) return await COMMANDS[args[0]](["--help"], io);
    if (command === "-h" || command === "--help" || command === "help") {
      io.stdout.write(USAGE);
      return 0;
    }
    if (command === "--version") {
      io.stdout.write(`${version()}\n`);
      return 0;
    }
    if (command === undefined) {
      io.stderr.write(USAGE);
      return 2;
    }
    if (!known(command)) {
      throw new UsageError(`Unknown command "${command}". Commands: ${Object.keys(COMMANDS).join(", ")}.`);
    }
    return await COMMANDS[command](args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      const help = known(command) ? `typeorm-storages ${command} --help` : "typeorm-storages --help";
      io.stderr.write(`typeorm-storages: ${error.message}\nRun "${help}" for usage.\n`);
      return 2;
    }
    io.stderr.write(`typeorm-storages: ${describeError(error)}\n`);
    return isFileStorageError(error) && error.code === "STORAGE_CONFIG" ? 2 : 1;
  }
}

/**
 * `stream` as the CLI writes to it: once its reader has gone (`typeorm-storages ... | head` closing the
 * pipe), writes are dropped and `onClosed` stops the run, as Ctrl-C does, where the stream's unhandled
 * EPIPE error crashed it with a stack trace halfway through.
 */
function processStream(stream: NodeJS.WriteStream, onClosed: () => void): CliStream {
  let closed = false;
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") throw error;
    closed = true;
    onClosed();
  });
  return {
    write: (chunk: string) => closed || stream.write(chunk),
    get isTTY() {
      return stream.isTTY;
    },
    get columns() {
      return stream.columns;
    },
  };
}

if (require.main === module) {
  const controller = new AbortController();
  process.on("SIGINT", () => {
    // The first Ctrl-C starts no new work and prints the summary (deletions and checks in flight finish;
    // collectstatic cancels its uploads in flight, which leave nothing behind); the second quits.
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write("\nInterrupted: starting nothing new, then the summary (Ctrl-C again to quit at once).\n");
    controller.abort();
  });
  const stop = () => controller.abort();
  main(process.argv.slice(2), {
    stdout: processStream(process.stdout, stop),
    stderr: processStream(process.stderr, stop),
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
  }).then((code) => {
    process.exitCode = code;
  });
}

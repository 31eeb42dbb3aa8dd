import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "./UsageError";

type Options = NonNullable<ParseArgsConfig["options"]>;
type CommandConfig<T extends Options> = { args: string[]; options: T; allowPositionals: true; strict: true };

/** A command's arguments against its `options`, positionals allowed; a bad argument is a `UsageError`. */
export function parseCommandArgs<T extends Options>(
  args: string[],
  options: T,
): ReturnType<typeof parseArgs<CommandConfig<T>>> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The `--concurrency` value: an integer from 1 to 1000, or `fallback` when absent. */
export function concurrencyOption(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 1000)
    throw new UsageError(`--concurrency must be an integer from 1 to 1000, got ${JSON.stringify(value)}.`);
  return n;
}

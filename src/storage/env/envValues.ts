import { StorageConfigError } from "../../errors/StorageConfigError";

/** An environment: `process.env` or any record of strings. */
export type Env = Record<string, string | undefined>;

/** The first of `names` set to a non-empty value, with its name; undefined when none is. */
export function firstSet(env: Env, names: ReadonlyArray<string>): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== "") return { name, value };
  }
  return undefined;
}

/** The value of the first of `names` set to a non-empty value. */
export function first(env: Env, ...names: string[]): string | undefined {
  return firstSet(env, names)?.value;
}

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off"];

/** `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`, any case), or undefined for anything else. */
export function parseBoolean(value: string): boolean | undefined {
  const word = value.trim().toLowerCase();
  if (TRUE.includes(word)) return true;
  if (FALSE.includes(word)) return false;
  return undefined;
}

/** A boolean variable; unset or empty gives undefined. Throws `StorageConfigError` naming it otherwise. */
export function flag(env: Env, name: string): boolean | undefined {
  const value = env[name];
  if (value === undefined || value.trim() === "") return undefined;
  return toBoolean(value, name);
}

/** `value` of variable `name` as a boolean; throws `StorageConfigError` naming the variable. */
export function toBoolean(value: string, name: string): boolean {
  const parsed = parseBoolean(value);
  if (parsed === undefined)
    throw new StorageConfigError(`${name} must be true or false, not ${JSON.stringify(value)}.`);
  return parsed;
}

/** `value` of variable `name` as a whole number of at least 0; throws `StorageConfigError` naming the variable. */
export function toInteger(value: string, name: string): number {
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(Number(trimmed))) {
    throw new StorageConfigError(
      `${name} must be a whole number (digits only, e.g. 3600), not ${JSON.stringify(value)}.`,
    );
  }
  return Number(trimmed);
}

/**
 * `value` of variable `name` parsed as a JSON object (not an array or null). Throws `StorageConfigError`
 * naming the variable, with the parser's complaint, and a hint when it looks like a Python dict.
 */
export function toJsonObject(value: string, name: string, example: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    const python = /'|\bTrue\b|\bFalse\b|\bNone\b/.test(value)
      ? " JSON is not Python: use double quotes, true/false and null."
      : "";
    throw new StorageConfigError(
      `${name} must be a JSON object like ${example}, but it is not valid JSON (${(error as Error).message}).${python}`,
      { cause: error },
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new StorageConfigError(`${name} must be a JSON object like ${example}, not ${JSON.stringify(parsed)}.`);
  }
  return parsed as Record<string, unknown>;
}

/** `value` of variable `name` as a JSON object whose values are all strings. */
export function toStringRecord(value: string, name: string, example: string): Record<string, string> {
  const record = toJsonObject(value, name, example);
  for (const [key, item] of Object.entries(record)) {
    if (typeof item !== "string") {
      throw new StorageConfigError(
        `${name}: the value of ${JSON.stringify(key)} must be a string, not ${JSON.stringify(item)}.`,
      );
    }
  }
  return record as Record<string, string>;
}

/** A comma-separated list, items trimmed, empty items dropped. */
export function toList(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

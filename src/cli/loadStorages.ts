import { existsSync } from "node:fs";
import { extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { StorageConfigError } from "../errors/StorageConfigError";
import type { StoragesConfig } from "../storage/StorageRegistry";
import { storagesFromEnv } from "../storage/storagesFromEnv";

function isStoragesConfig(value: unknown): value is StoragesConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const entries = Object.values(value);
  return (
    entries.length > 0 &&
    entries.every(
      (entry) =>
        typeof entry === "function" ||
        (typeof entry === "object" && entry !== null && "driver" in entry && typeof entry.save === "function"),
    )
  );
}

/**
 * The storages a config module exports: its `storages` export, else its default export (an ES module's
 * `export default`, a TypeScript-compiled `exports.default`, or CommonJS `module.exports` itself). Each
 * of those may itself be `{ storages }`.
 */
function pickConfig(value: unknown, depth = 0): StoragesConfig | null {
  if (typeof value !== "object" || value === null || depth > 2) return null;
  const module = value as Record<string | symbol, unknown>;
  if (isStoragesConfig(module.storages)) return module.storages;
  if (module[Symbol.toStringTag] === "Module" || module.__esModule === true)
    return pickConfig(module.default, depth + 1);
  return isStoragesConfig(module) ? module : null;
}

async function importModule(file: string): Promise<unknown> {
  if (extname(file) === ".mjs") return import(pathToFileURL(file).href);
  try {
    return require(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // An ES module `require` cannot load (Node < 20.19, or top-level await).
    if (code === "ERR_REQUIRE_ESM" || code === "ERR_REQUIRE_ASYNC_MODULE") return import(pathToFileURL(file).href);
    throw error;
  }
}

/**
 * The CLI's `--config` module (`configPath` relative to `cwd`), CommonJS or ES, and its resolved path.
 * Throws `StorageConfigError` when it is missing or fails to load.
 */
export async function loadConfigModule(configPath: string, cwd: string): Promise<{ file: string; loaded: unknown }> {
  const file = resolve(cwd, configPath);
  if (!existsSync(file)) throw new StorageConfigError(`The config module ${file} does not exist.`);
  try {
    return { file, loaded: await importModule(file) };
  } catch (error) {
    throw new StorageConfigError(`Could not load the config module ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * The storages the CLI works on: from the config module at `configPath` (relative to `cwd`) when given,
 * else `storagesFromEnv(env)`. Throws `StorageConfigError` when the module is missing, fails to load, or
 * exports no `{ name: Storage | () => Storage }` object as default or as `storages` (resolves with null
 * for that last case instead when not `required`).
 */
export async function loadStorages(
  configPath: string | undefined,
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<StoragesConfig>;
export async function loadStorages(
  configPath: string | undefined,
  env: Record<string, string | undefined>,
  cwd: string,
  options: { required: false },
): Promise<StoragesConfig | null>;
export async function loadStorages(
  configPath: string | undefined,
  env: Record<string, string | undefined>,
  cwd: string,
  { required = true }: { required?: boolean } = {},
): Promise<StoragesConfig | null> {
  if (configPath === undefined) return storagesFromEnv(env);
  const { file, loaded } = await loadConfigModule(configPath, cwd);
  const config = pickConfig(loaded);
  if (config === null && !required) return null;
  if (config === null) {
    const names = typeof loaded === "object" && loaded !== null ? Object.keys(loaded) : [];
    throw new StorageConfigError(
      `The config module ${file} must export its storages as its default export or as "storages": an object ` +
        "mapping names to storages or factories, e.g. { media: () => new S3Storage({ bucketName: ... }) }. " +
        `It exports ${names.length > 0 ? names.map((n) => `"${n}"`).join(", ") : "nothing usable"}.`,
    );
  }
  return config;
}

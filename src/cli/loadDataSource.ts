import type { DataSource } from "typeorm";
import { StorageConfigError } from "../errors/StorageConfigError";
import { loadConfigModule } from "./loadStorages";

function isDataSource(value: unknown): value is DataSource {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as DataSource).initialize === "function" &&
    typeof (value as DataSource).getMetadata === "function"
  );
}

/**
 * The TypeORM DataSource a config module exports as `dataSource` (or as `dataSource` of its default
 * export, or as the default export itself). Throws `StorageConfigError` when the module is missing,
 * fails to load, or exports none.
 */
export async function loadDataSource(configPath: string, cwd: string): Promise<DataSource> {
  const { file, loaded } = await loadConfigModule(configPath, cwd);
  const module = (loaded ?? {}) as Record<string, unknown>;
  const inner = (module.default ?? {}) as Record<string, unknown>;
  const found = [module.dataSource, inner.dataSource, module.default].find(isDataSource);
  if (!found)
    throw new StorageConfigError(
      `The config module ${file} must export the app's TypeORM DataSource as "dataSource" (beside its ` +
        "storages), so that the file columns of its entities can be read.",
    );
  return found;
}

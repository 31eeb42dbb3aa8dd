import { DataSource, type EntityManager } from "typeorm";
import type { Storage } from "../storage/Storage";
import { liveDataSources } from "./dataSources";
import { fileKeyColumns, rowsNaming } from "./fileKeyColumns";

/**
 * Whether some row holds `key` in a file column on `storage`, soft-deleted rows included: through
 * `manager` when given (so inside its transaction), else in every initialized DataSource. One query per
 * such column.
 */
export async function isKeyHeld(storage: Storage, key: string, manager?: EntityManager): Promise<boolean> {
  for (const target of manager ? [manager] : liveDataSources()) {
    const dataSource = target instanceof DataSource ? target : target.connection;
    for (const column of fileKeyColumns(dataSource)) {
      if (!column.uses.some((use) => use.storage === storage)) continue;
      if ((await rowsNaming(target, column, [key])).length > 0) return true;
    }
  }
  return false;
}

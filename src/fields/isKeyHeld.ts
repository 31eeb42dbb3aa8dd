import { DataSource, type EntityManager } from "typeorm";
import type { Storage } from "../storage/Storage";
import { liveDataSources } from "./dataSources";
import { fileKeyColumns, rowsNaming } from "./fileKeyColumns";

/**
 * Which rows hold `key` in a file column on `storage`, soft-deleted rows included: `other` when a row
 * other than `own`'s does, `own` when only `own`'s row does (by primary key, whichever instance of it
 * loaded the row), `none` otherwise. Looked up through `manager` when given (so inside its
 * transaction), else in every initialized DataSource; one query per such column.
 */
export async function keyHolder(
  storage: Storage,
  key: string,
  manager?: EntityManager,
  own?: object,
): Promise<"other" | "own" | "none"> {
  let held: "own" | "none" = "none";
  for (const target of manager ? [manager] : liveDataSources()) {
    const dataSource = target instanceof DataSource ? target : target.connection;
    for (const column of fileKeyColumns(dataSource)) {
      if (!column.uses.some((use) => use.storage === storage)) continue;
      const { metadata } = column;
      const isOwn = (id: Record<string, unknown>) =>
        own instanceof (metadata.target as Function) &&
        metadata.primaryColumns.every((pk) => {
          const mine = pk.getEntityValue(own);
          return mine !== undefined && mine !== null && String(mine) === String(id[pk.propertyPath]);
        });
      for (const row of await rowsNaming(target, column, [key])) {
        if (!isOwn(row.id)) return "other";
        held = "own";
      }
    }
  }
  return held;
}

/** Whether some row holds `key` in a file column on `storage` (see `keyHolder`). */
export async function isKeyHeld(storage: Storage, key: string, manager?: EntityManager): Promise<boolean> {
  return (await keyHolder(storage, key, manager)) !== "none";
}

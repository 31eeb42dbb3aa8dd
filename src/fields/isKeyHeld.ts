import { DataSource, type EntityManager, type QueryRunner } from "typeorm";
import type { Storage } from "../storage/Storage";
import { liveDataSources } from "./dataSources";
import { type FileKeyColumn, fileKeyColumns, rowsNaming } from "./fileKeyColumns";

/** Where `keyHolder` looks a key up. */
export interface KeyLookup {
  /** Only this manager's DataSource, inside its transaction. Else every initialized DataSource. */
  manager?: EntityManager;
  /** The entity whose own row does not count as another (by primary key, whichever instance loaded it). */
  own?: object;
  /**
   * The connection that has just committed (or, outside a transaction, written) the rows the lookup is
   * about: its DataSource is asked through it.
   */
  queryRunner?: QueryRunner;
  /** Only these DataSources (without `manager`). Else every initialized DataSource. */
  dataSources?: readonly DataSource[];
}

/*
 * A cleanup looks its keys up after the commit, inside TypeORM's `afterTransactionCommit`, before the
 * committing connection goes back to the pool. Asking the DataSource for a connection of its own then
 * waits for a free one: with a pool of one (serverless set-ups) or as many concurrent commits as the
 * pool holds, every commit waits for another, and none ever returns. And a DataSource's reads go to a
 * replica when it has some, which may not have the rows just committed yet: the key would read as
 * free, and a file a committed row names be deleted. So the committing connection answers for its
 * own DataSource, and every other DataSource is asked on its master, once the committing connection
 * is released (cleanup.ts): holding it while waiting for another pool's, two DataSources committing
 * at once could each wait for the other.
 */

/**
 * `look` through `queryRunner`'s manager when it is `dataSource`'s and still connected, else on one
 * master connection, taken for the whole look (all the columns of the DataSource).
 */
async function askMaster<T>(
  dataSource: DataSource,
  queryRunner: QueryRunner | undefined,
  look: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  if (queryRunner && queryRunner.connection === dataSource && !queryRunner.isReleased) return look(queryRunner.manager);
  const master = dataSource.createQueryRunner("master");
  try {
    return await look(master.manager);
  } finally {
    await master.release();
  }
}

/**
 * Which rows hold `key` in a file column on `storage`, soft-deleted rows included: `other` when a row
 * other than `own`'s does, `own` when only `own`'s row does, `none` otherwise. Looked up through
 * `manager` when given (so inside its transaction), else on the master of every initialized
 * DataSource (through `queryRunner` for its own); one query per such column. Rejects with the
 * database's error.
 */
export async function keyHolder(
  storage: Storage,
  key: string,
  { manager, own, queryRunner, dataSources }: KeyLookup = {},
): Promise<"other" | "own" | "none"> {
  let held: "own" | "none" = "none";
  for (const target of manager ? [manager] : (dataSources ?? liveDataSources())) {
    const dataSource = target instanceof DataSource ? target : target.connection;
    const columns = columnsOn(dataSource, storage);
    if (columns.length === 0) continue;
    const look = (through: EntityManager) => holderIn(through, columns, key, own);
    // a manager in a transaction answers from inside it; a DataSource's own manager is the DataSource
    const found =
      target instanceof DataSource || !target.queryRunner
        ? await askMaster(dataSource, queryRunner, look)
        : await look(target);
    if (found === "other") return "other";
    if (found === "own") held = "own";
  }
  return held;
}

/** The file columns of `dataSource` whose fields keep their files on `storage`. */
function columnsOn(dataSource: DataSource, storage: Storage): FileKeyColumn[] {
  // a field whose storage this process has not configured holds no key of `storage` (an instance)
  return fileKeyColumns(dataSource, { skipUnconfigured: true }).filter((column) =>
    column.uses.some((use) => use.storage === storage),
  );
}

/** The initialized DataSources other than `dataSource` with a file column on `storage`. */
export function otherDataSourcesUsing(dataSource: DataSource, storage: Storage): DataSource[] {
  return liveDataSources().filter((other) => other !== dataSource && columnsOn(other, storage).length > 0);
}

/** `keyHolder` within one DataSource's `columns`, through `through`. */
async function holderIn(
  through: EntityManager,
  columns: readonly FileKeyColumn[],
  key: string,
  own: object | undefined,
): Promise<"other" | "own" | "none"> {
  let held: "own" | "none" = "none";
  for (const column of columns) {
    const { metadata } = column;
    const isOwn = (id: Record<string, unknown>) =>
      own instanceof (metadata.target as Function) &&
      metadata.primaryColumns.every((pk) => {
        const mine = pk.getEntityValue(own);
        return mine !== undefined && mine !== null && String(mine) === String(id[pk.propertyPath]);
      });
    for (const row of await rowsNaming(through, column, [key])) {
      if (!isOwn(row.id)) return "other";
      held = "own";
    }
  }
  return held;
}

/** Whether some row holds `key` in a file column on `storage` (see `keyHolder`). */
export async function isKeyHeld(storage: Storage, key: string, lookup?: KeyLookup): Promise<boolean> {
  return (await keyHolder(storage, key, lookup)) !== "none";
}

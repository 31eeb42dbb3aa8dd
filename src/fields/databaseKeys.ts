import type { ObjectLiteral, QueryRunner } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata";
import type { EntityMetadata } from "typeorm/metadata/EntityMetadata";
import { FileColumnTransformer } from "./FileColumnTransformer";
import { findSlot, setSlot, slotOf } from "./queryRunnerSlots";

/*
 * To tell which file a save replaces or a removal leaves behind, the subscriber reads the key the row
 * held from `databaseEntity`, the row TypeORM loads before it writes. TypeORM loads it as a plain find
 * does, so a column declared `select: false` is not in it: the old key reads as unknown, and the file
 * would never be deleted. And for some removals TypeORM gives no `databaseEntity` at all (an orphan
 * deleted by `orphanedRowAction: "delete"`, which it never loads; an entity whose row was gone).
 *
 * So, before such an UPDATE or DELETE, the keys the subscriber lacks are loaded by primary key on the
 * event's query runner, inside the same transaction (what the statement is about to overwrite), and
 * put on `databaseEntity` as if TypeORM had selected them; for a removal without one, the loaded row
 * is kept on the query runner until `afterRemove`. This costs one SELECT per such row, and nothing
 * for entities whose file columns are all selectable.
 */

interface FileColumns {
  /** Every file column (arrays of embeddeds, MongoDB only, aside). */
  all: readonly ColumnMetadata[];
  /** Those a load leaves out (`select: false`). */
  unselected: readonly ColumnMetadata[];
}

const columnsByMetadata = new WeakMap<EntityMetadata, FileColumns>();

function fileColumnsOf(metadata: EntityMetadata): FileColumns {
  let columns = columnsByMetadata.get(metadata);
  if (!columns) {
    const all = metadata.columns.filter(
      (column) => column.transformer instanceof FileColumnTransformer && !column.embeddedMetadata?.isArray,
    );
    columns = { all, unselected: all.filter((column) => column.isSelect === false) };
    columnsByMetadata.set(metadata, columns);
  }
  return columns;
}

/*
 * `databaseEntity` is the row as TypeORM read it when the save or removal began, without a lock: a
 * concurrent request may have replaced the file since and committed, before this statement's UPDATE
 * or DELETE (which waits for that request's row lock) overwrites its key. The file that request
 * uploaded was then named by no row and deleted by nobody, and the key deleted as "replaced" was one
 * already gone. So where your code changed a file field, or removes the row, the keys are read again
 * with the lock the UPDATE or DELETE takes anyway (`FOR NO KEY UPDATE` on PostgreSQL, `FOR UPDATE`
 * elsewhere), inside the transaction: what the statement really overwrites. One SELECT per such row.
 * SQLite has no row locks (and TypeORM runs all its transactions on one connection): nothing is read.
 */

/**
 * The row lock a locking read takes on `queryRunner`'s database before an UPDATE (`removal`: a
 * DELETE), or undefined (none, or no transaction).
 */
function lockFor(queryRunner: QueryRunner, removal: boolean): "for_no_key_update" | "pessimistic_write" | undefined {
  if (!queryRunner.isTransactionActive) return undefined;
  const type = queryRunner.connection.driver.options.type;
  const postgres = type === "postgres" || type === "aurora-postgres";
  // the lock an UPDATE of non-key columns takes; a DELETE takes the stronger one
  if (postgres && !removal) return "for_no_key_update";
  if (postgres || ["mysql", "mariadb", "aurora-mysql", "cockroachdb", "oracle", "mssql", "sap"].includes(type))
    return "pessimistic_write";
  return undefined;
}

/**
 * Brings `databaseEntity` up to date with the row the statement is about to overwrite: the
 * unselectable file columns it lacks (given the saved `entity`, only those it writes) and, under the
 * row's lock, the file columns at `changed` (the property paths your code changed, asked only when
 * a lock applies; for a removal, given no `entity`, all of them). A row already gone holds no file.
 * Returns undefined when nothing is to load; rejects with TypeORM's error when the SELECT fails (a
 * serialization failure, a lock timeout).
 */
export function completeDatabaseKeys(
  queryRunner: QueryRunner,
  metadata: EntityMetadata,
  databaseEntity: ObjectLiteral,
  entity?: ObjectLiteral,
  changed?: () => ReadonlySet<string>,
): Promise<void> | undefined {
  const { all, unselected } = fileColumnsOf(metadata);
  if (all.length === 0) return undefined;
  const lock = lockFor(queryRunner, entity === undefined);
  // the column getter is patched (patchFileColumns.ts): undefined means never set, or not selected
  const missing = unselected.filter(
    (column) =>
      column.getEntityValue(databaseEntity) === undefined &&
      (entity === undefined || column.getEntityValue(entity) !== undefined),
  );
  const paths = lock && entity !== undefined ? changed?.() : undefined;
  const fresh = lock ? all.filter((column) => entity === undefined || paths?.has(column.propertyPath) === true) : [];
  const columns = [...new Set([...missing, ...fresh])];
  if (columns.length === 0) return undefined;
  return serially(queryRunner, async () => {
    const id = metadata.getEntityIdMap(databaseEntity);
    const row = await loadKeys(queryRunner, metadata, id, columns, fresh.length > 0 ? lock : undefined);
    if (!row && fresh.length > 0) gone.add(databaseEntity);
    for (const column of columns)
      if (row) column.setEntityValue(databaseEntity, column.getEntityValue(row));
      else if (fresh.includes(column)) column.setEntityValue(databaseEntity, null);
  });
}

/** `databaseEntity`s whose row a locking read found gone: removed by a request that committed first. */
const gone = new WeakSet<object>();

/**
 * True when the row of `databaseEntity` was removed before the save wrote it: the UPDATE changes
 * nothing, and an upload the save wrote into it is held by no row.
 */
export function isRowGone(databaseEntity: object | undefined): boolean {
  return databaseEntity !== undefined && gone.has(databaseEntity);
}

const REMOVED_ROWS = Symbol.for("typeorm-storages:removed-rows");

type RemovedRows = Map<EntityMetadata, Map<string, ObjectLiteral>>;

function removedRowsOf(queryRunner: QueryRunner): RemovedRows {
  return slotOf(queryRunner, REMOVED_ROWS, (): RemovedRows => new Map());
}

/** The primary key TypeORM gives `beforeRemove` and `afterRemove` (a value, or a map of them), as a string. */
const idKey = (entityId: unknown) =>
  JSON.stringify(entityId, (_, value) => (typeof value === "bigint" ? String(value) : value));

/**
 * For a removal TypeORM gives no `databaseEntity`: loads the file keys of the row `entityId` names, for
 * `takeRemovedRow` to hand to `afterRemove`, and resolves with them (null: no such row). Returns
 * undefined when the entity has no file columns.
 */
export function loadRemovedRow(
  queryRunner: QueryRunner,
  metadata: EntityMetadata,
  entityId: unknown,
): Promise<ObjectLiteral | null> | undefined {
  const { all } = fileColumnsOf(metadata);
  if (all.length === 0 || entityId === undefined) return undefined;
  return serially(queryRunner, async () => {
    const row = await loadKeys(queryRunner, metadata, entityId, all, lockFor(queryRunner, true));
    const byMetadata = removedRowsOf(queryRunner);
    const rows = byMetadata.get(metadata) ?? new Map<string, ObjectLiteral>();
    byMetadata.set(metadata, rows);
    // a row already gone holds no file: a stale entry from a removal that failed is forgotten
    if (row) rows.set(idKey(entityId), row);
    else rows.delete(idKey(entityId));
    return row;
  });
}

/** The row `loadRemovedRow` loaded for `entityId`, forgotten as it is returned; undefined if none. */
export function takeRemovedRow(
  queryRunner: QueryRunner,
  metadata: EntityMetadata,
  entityId: unknown,
): ObjectLiteral | undefined {
  const rows = findSlot<RemovedRows>(queryRunner, REMOVED_ROWS)?.get(metadata);
  if (!rows) return undefined;
  const key = idKey(entityId);
  const row = rows.get(key);
  rows.delete(key);
  return row;
}

/**
 * Forgets the rows loaded for removals whose `afterRemove` never came (the DELETE failed): called once
 * the outermost transaction ends. A connection SQLite drivers keep for the whole DataSource would
 * otherwise hold one row per failed removal for the life of the process.
 */
export function forgetRemovedRows(queryRunner: QueryRunner): void {
  findSlot<RemovedRows>(queryRunner, REMOVED_ROWS)?.clear();
}

function loadKeys(
  queryRunner: QueryRunner,
  metadata: EntityMetadata,
  id: unknown,
  columns: readonly ColumnMetadata[],
  lock?: "for_no_key_update" | "pessimistic_write",
): Promise<ObjectLiteral | null> {
  const alias = "file_keys";
  const select = (column: ColumnMetadata) => `${alias}.${column.propertyPath}`;
  const query = queryRunner.manager.createQueryBuilder(metadata.target, alias);
  if (lock) query.setLock(lock);
  return (
    query
      .select(metadata.primaryColumns.map(select))
      .addSelect(columns.map(select))
      .withDeleted()
      .whereInIds([id])
      // a partial row (keys only): your @AfterLoad listeners and subscribers must not see it as a loaded entity
      .callListeners(false)
      .getOne()
  );
}

const LOADS = Symbol.for("typeorm-storages:key-loads");

/**
 * Runs `load` after the key loads already queued on `queryRunner`: TypeORM fires the before-events of
 * every row of a save at once, and one connection must not run two queries at a time (pg, TypeORM
 * #12238).
 */
function serially<T>(queryRunner: QueryRunner, load: () => Promise<T>): Promise<T> {
  const queued = findSlot<Promise<unknown>>(queryRunner, LOADS) ?? Promise.resolve();
  const next = queued.then(load);
  setSlot(
    queryRunner,
    LOADS,
    next.catch(() => undefined),
  );
  return next;
}

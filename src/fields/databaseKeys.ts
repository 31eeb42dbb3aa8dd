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

/**
 * Loads the unselectable file columns `databaseEntity` lacks and sets them on it, as hydration would.
 * Given the saved `entity`, only the columns it writes (a value set) are loaded. Returns undefined when
 * nothing is missing; rejects with TypeORM's error when the SELECT fails.
 */
export function completeDatabaseKeys(
  queryRunner: QueryRunner,
  metadata: EntityMetadata,
  databaseEntity: ObjectLiteral,
  entity?: ObjectLiteral,
): Promise<void> | undefined {
  const { unselected } = fileColumnsOf(metadata);
  if (unselected.length === 0) return undefined;
  // the column getter is patched (patchFileColumns.ts): undefined means never set, or not selected
  const missing = unselected.filter(
    (column) =>
      column.getEntityValue(databaseEntity) === undefined &&
      (entity === undefined || column.getEntityValue(entity) !== undefined),
  );
  if (missing.length === 0) return undefined;
  return serially(queryRunner, async () => {
    const row = await loadKeys(queryRunner, metadata, metadata.getEntityIdMap(databaseEntity), missing);
    if (!row) return;
    for (const column of missing) column.setEntityValue(databaseEntity, column.getEntityValue(row));
  });
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
 * `takeRemovedRow` to hand to `afterRemove`. Returns undefined when the entity has no file columns.
 */
export function loadRemovedRow(
  queryRunner: QueryRunner,
  metadata: EntityMetadata,
  entityId: unknown,
): Promise<void> | undefined {
  const { all } = fileColumnsOf(metadata);
  if (all.length === 0 || entityId === undefined) return undefined;
  return serially(queryRunner, async () => {
    const row = await loadKeys(queryRunner, metadata, entityId, all);
    const byMetadata = removedRowsOf(queryRunner);
    const rows = byMetadata.get(metadata) ?? new Map<string, ObjectLiteral>();
    byMetadata.set(metadata, rows);
    // a row already gone holds no file: a stale entry from a removal that failed is forgotten
    if (row) rows.set(idKey(entityId), row);
    else rows.delete(idKey(entityId));
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
): Promise<ObjectLiteral | null> {
  const alias = "file_keys";
  const select = (column: ColumnMetadata) => `${alias}.${column.propertyPath}`;
  return (
    queryRunner.manager
      .createQueryBuilder(metadata.target, alias)
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
function serially(queryRunner: QueryRunner, load: () => Promise<void>): Promise<void> {
  const queued = findSlot<Promise<void>>(queryRunner, LOADS) ?? Promise.resolve();
  const next = queued.then(load);
  setSlot(
    queryRunner,
    LOADS,
    next.catch(() => undefined),
  );
  return next;
}

import type { DataSource, EntityManager } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata";
import type { EntityMetadata } from "typeorm/metadata/EntityMetadata";
import type { Storage } from "../storage/Storage";
import { FileColumnTransformer } from "./FileColumnTransformer";
import type { FileFieldDefinition } from "./FileFieldDefinition";
import { getFileFields } from "./fileFields";
import { resolveStorage, resolveStorageIfConfigured } from "./resolveStorage";

/** Rows read per query while collecting keys, and keys per `IN (...)` when checking them again. */
const PAGE = 5000;
const BATCH = 500;

/** One file field as an entity class uses it: its definition, its storage, and `Post.attachment`. */
export interface FileColumnUse {
  field: FileFieldDefinition;
  storage: Storage;
  label: string;
}

/**
 * A database column holding file keys, read once through `metadata` (for single-table inheritance,
 * the parent: all rows), with every use of it: classes sharing a table may declare the column with
 * different storages (single-table children, a subclass redeclaring an inherited field).
 */
export interface FileKeyColumn {
  metadata: EntityMetadata;
  column: ColumnMetadata;
  uses: FileColumnUse[];
}

/** A non-empty key a row holds, with the row's primary key. */
export interface KeyRow {
  key: string;
  id: Record<string, unknown>;
}

/**
 * The columns holding file keys in the DataSource's tables, embedded ones included, each with the
 * fields every entity class declares on it (resolved as the accessor resolves them: the class's own
 * definition, else the nearest inherited one). Throws `StorageConfigError` for a field whose storage is
 * not configured, unless `skipUnconfigured` leaves such uses out.
 */
export function fileKeyColumns(dataSource: DataSource, { skipUnconfigured = false } = {}): FileKeyColumn[] {
  const byPlace = new Map<string, FileKeyColumn>();
  // parents first: a single-table parent's metadata reads every row of the table
  const metadatas = [...dataSource.entityMetadatas].sort(
    (a, b) => Number(a.tableType === "entity-child") - Number(b.tableType === "entity-child"),
  );
  for (const metadata of metadatas) {
    for (const column of metadata.columns) {
      if (!(column.transformer instanceof FileColumnTransformer) || column.embeddedMetadata?.isArray) continue;
      const where = `${metadata.tablePath}\u0000${column.databaseName}`;
      let entry = byPlace.get(where);
      if (!entry) {
        entry = { metadata, column, uses: [] };
        byPlace.set(where, entry);
      }
      const owner = column.embeddedMetadata ? column.embeddedMetadata.type : metadata.target;
      const field =
        typeof owner === "function"
          ? getFileFields(owner).find((f) => f.propertyName === column.propertyName)
          : undefined;
      if (!field) continue; // a single-table parent sees its children's columns, not their fields
      const storage = skipUnconfigured ? resolveStorageIfConfigured(field.storage) : resolveStorage(field.storage);
      if (!storage) continue;
      const label = `${metadata.name}.${column.propertyPath}`;
      if (!entry.uses.some((use) => use.storage === storage && use.label === label))
        entry.uses.push({ field, storage, label });
    }
  }
  return [...byPlace.values()].filter((entry) => entry.uses.length > 0);
}

/**
 * The non-empty keys a column holds, soft-deleted rows included (`recover()` must find their files), a
 * page at a time in primary-key order. Only the keys are kept: `rowsNaming` finds the rows of the few
 * that need them.
 *
 * Each page seeks past the primary key of the last row read (`WHERE pk > :last ORDER BY pk LIMIT n`)
 * rather than skipping rows with OFFSET, which rescans every skipped row on each page (quadratic on a
 * large table) and shifts when rows are deleted or inserted meanwhile, so that a key is skipped or read
 * twice. With the seek, a row that exists throughout is read exactly once; one inserted behind the last
 * key read is not read. A composite key is compared as `a >= :a AND (a > :a OR (a = :a AND b > :b))`,
 * not as the row value `(a, b) > (:a, :b)`: MariaDB does not seek an index with a row value (it scans
 * from the start) and SQL Server has none. The values compared are those the driver read, so the
 * database orders and compares them by its own types and collations.
 */
export async function* keysOf(
  dataSource: DataSource,
  { metadata, column }: FileKeyColumn,
  { pageSize = PAGE } = {},
): AsyncGenerator<string> {
  const primary = metadata.primaryColumns.map((pk) => `t.${pk.propertyPath}`);
  let last: unknown[] | null = null;
  for (;;) {
    const query = dataSource
      .createQueryBuilder()
      .withDeleted()
      .from(metadata.target, "t")
      .select(`t.${column.propertyPath}`, "key")
      .where(`t.${column.propertyPath} IS NOT NULL`)
      .andWhere(`t.${column.propertyPath} <> ''`);
    primary.forEach((pk, n) => {
      query.addSelect(pk, `pk${n}`).addOrderBy(pk, "ASC");
    });
    if (last) query.andWhere(...after(primary, last));
    const rows: Record<string, unknown>[] = await query.limit(pageSize).getRawMany();
    for (const row of rows) yield String(row.key);
    if (rows.length < pageSize) return;
    const end = rows[rows.length - 1];
    last = primary.map((_, n) => end[`pk${n}`]);
  }
}

/** The condition and parameters of the rows whose primary key `columns` sort after the values `last`. */
function after(columns: readonly string[], last: readonly unknown[]): [string, Record<string, unknown>] {
  const parameters = Object.fromEntries(last.map((value, n) => [`after${n}`, value]));
  // a > :a OR (a = :a AND b > :b) OR (a = :a AND b = :b AND c > :c) ...
  const branches = columns.map((column, n) =>
    [...columns.slice(0, n).map((before, m) => `${before} = :after${m}`), `${column} > :after${n}`].join(" AND "),
  );
  if (columns.length === 1) return [branches[0], parameters];
  // the bound on the first column alone is what lets every database seek the index instead of scanning it
  return [`${columns[0]} >= :after0 AND (${branches.map((b) => `(${b})`).join(" OR ")})`, parameters];
}

/**
 * The rows of the column that hold one of `keys` now, exactly (whatever the column's collation),
 * soft-deleted ones included, with their primary keys; through an `EntityManager`, inside its
 * transaction.
 */
export async function rowsNaming(
  dataSource: DataSource | EntityManager,
  { metadata, column }: FileKeyColumn,
  keys: readonly string[],
): Promise<KeyRow[]> {
  const found: KeyRow[] = [];
  const primary = metadata.primaryColumns;
  for (let i = 0; i < keys.length; i += BATCH) {
    const query = dataSource
      .createQueryBuilder()
      .withDeleted()
      .from(metadata.target, "t")
      .select(`t.${column.propertyPath}`, "key")
      .where(`t.${column.propertyPath} IN (:...keys)`, { keys: keys.slice(i, i + BATCH) });
    primary.forEach((pk, n) => {
      query.addSelect(`t.${pk.propertyPath}`, `pk${n}`);
    });
    const asked = new Set(keys.slice(i, i + BATCH));
    for (const row of (await query.getRawMany()) as Record<string, unknown>[]) {
      // IN compares by the column's collation: MariaDB's default ignores case and trailing spaces, so
      // a row naming `Report.pdf ` answers for `report.pdf`, another object on S3 and most disks
      if (!asked.has(String(row.key))) continue;
      const id = Object.fromEntries(primary.map((pk, n) => [pk.propertyPath, row[`pk${n}`]]));
      found.push({ key: String(row.key), id });
    }
  }
  return found;
}

import path from "node:path";
import type { DataSource } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata";
import type { EntityMetadata } from "typeorm/metadata/EntityMetadata";
import { StorageConfigError } from "../errors/StorageConfigError";
import { FileSystemStorage } from "../storage/FileSystemStorage";
import { S3Storage } from "../storage/S3Storage";
import type { Storage } from "../storage/Storage";
import type { StoredObject } from "../types";
import { FileColumnTransformer } from "./FileColumnTransformer";
import type { FileFieldDefinition } from "./FileFieldDefinition";
import { getFileFields } from "./fileFields";
import { resolveStorage } from "./resolveStorage";

/** Objects younger than this are never orphans: their row may not be committed yet (bytes go first). */
export const DEFAULT_ORPHAN_MIN_AGE = 24 * 3600;

/** Rows read per query while collecting the keys the database holds. */
const PAGE = 5000;

export interface ReconcileFilesOptions {
  /**
   * Seconds an unreferenced object must have existed to count as an orphan (default one day): an
   * upload is stored before its row is written, and a transaction may still be open.
   */
  minAge?: number;
  /** Delete the orphans found (default false: report only). */
  deleteOrphans?: boolean;
  /** Only the storages of these names (default: every storage a file column of the DataSource uses). */
  storages?: readonly string[];
  /** Deletions in parallel (default 8). */
  concurrency?: number;
  /** Current time, for the age of objects (tests). */
  now?: Date;
}

/** A row whose file column names an object the storage does not have. */
export interface MissingFile {
  /** `Post.attachment` */
  field: string;
  /** The row's primary key, by property. */
  id: Record<string, unknown>;
  key: string;
}

/** What one storage holds compared with what the database names. */
export interface ReconcileStorageReport {
  /** The storage's registered name, or null for a storage given by instance. */
  storage: string | null;
  /** The file fields keeping their files there: `Post.attachment`, … */
  fields: string[];
  /** The key prefixes listed: the fields' `uploadTo` directories, or "" for the whole storage. */
  prefixes: string[];
  /** Objects listed under those prefixes. */
  objects: number;
  /** Distinct keys the rows name. */
  referenced: number;
  /** Unreferenced objects old enough to be orphans, by name. */
  orphans: StoredObject[];
  /** Unreferenced objects younger than `minAge`: left alone. */
  recent: number;
  /** Rows naming a key under those prefixes that the storage does not have. */
  missing: MissingFile[];
  /** Orphans deleted (with `deleteOrphans`). */
  deleted: number;
  /** Why the orphans of this storage were not deleted although asked, or null. */
  notDeleted: string | null;
  /** Orphans whose deletion failed, and why. */
  failures: { name: string; reason: string }[];
}

interface FileColumn {
  metadata: EntityMetadata;
  column: ColumnMetadata;
  field: FileFieldDefinition;
  /** `Post.attachment`: the entity declaring it (a single-table child, not its parent), and the path. */
  label: string;
}

/**
 * Compares the objects of every storage the DataSource's file columns use with the keys their rows
 * hold: objects no row names (orphans: left by raw SQL deletes, cascades, `orphanedRowAction`, crashed
 * requests, uploads never attached) and rows whose object is missing. Lists each storage once (under
 * the fields' `uploadTo` directories when every field has a template, else whole) and reads the key
 * columns page by page; with `deleteOrphans`, deletes the orphans, except in a storage where a field
 * keeps replaced files (`keepFiles`), whose old files are unreferenced on purpose.
 *
 * Objects of the same storage that are not file fields' (saved by your code through `storage.save`)
 * count as orphans too: run it without `deleteOrphans` first. Throws `StorageConfigError` for a
 * DataSource that is not initialized or a bad option, and the storage's or the driver's error when
 * listing or reading fails.
 */
export async function reconcileFiles(
  dataSource: DataSource,
  options: ReconcileFilesOptions = {},
): Promise<ReconcileStorageReport[]> {
  if (!dataSource.isInitialized)
    throw new StorageConfigError(
      "reconcileFiles needs an initialized DataSource: await dataSource.initialize() first.",
    );
  const minAge = options.minAge ?? DEFAULT_ORPHAN_MIN_AGE;
  if (!Number.isFinite(minAge) || minAge < 0)
    throw new StorageConfigError(`minAge must be a number of seconds from 0, got ${String(minAge)}.`);
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000)
    throw new StorageConfigError(`concurrency must be an integer from 1 to 1000, got ${String(concurrency)}.`);
  const cutoff = (options.now ?? new Date()).getTime() - minAge * 1000;

  const byStorage = new Map<Storage, FileColumn[]>();
  for (const column of fileColumns(dataSource)) {
    const storage = resolveStorage(column.field.storage);
    byStorage.set(storage, [...(byStorage.get(storage) ?? []), column]);
  }
  const wanted = options.storages;
  if (wanted) {
    const found = new Set([...byStorage.keys()].map((storage) => storage.name));
    const unknown = wanted.filter((name) => !found.has(name));
    if (unknown.length > 0)
      throw new StorageConfigError(
        `No file column of this DataSource keeps its files in ${unknown.map((n) => `"${n}"`).join(", ")}. ` +
          `Those it uses: ${[...found].map((n) => `"${n}"`).join(", ") || "none"}.`,
      );
  }

  // Every storage's keys are read, also of storages not reported on: two storages may keep their
  // objects in one place (the same bucket and location, or one inside the other).
  const referencedBy = new Map<Storage, Map<string, MissingFile[]>>();
  for (const [storage, columns] of byStorage) {
    const referenced = new Map<string, MissingFile[]>();
    for (const column of columns) {
      for await (const row of keysOf(dataSource, column)) {
        const rows = referenced.get(row.key);
        if (rows) rows.push(row);
        else referenced.set(row.key, [row]);
      }
    }
    referencedBy.set(storage, referenced);
  }

  const reports: ReconcileStorageReport[] = [];
  for (const [storage, columns] of byStorage) {
    if (wanted && !wanted.includes(storage.name ?? "")) continue;
    const referenced = referencedBy.get(storage) as Map<string, MissingFile[]>;
    const { alsoReferenced, foreign } = neighbours(storage, referencedBy);
    const prefixes = listedPrefixes(columns.map((c) => c.field));
    const listed: StoredObject[] = [];
    for (const prefix of prefixes)
      for (const object of await storage.listAll(prefix))
        if (!foreign.some((inner) => object.name.startsWith(inner))) listed.push(object);
    const names = new Set(listed.map((object) => object.name));
    const unreferenced = listed.filter((object) => !referenced.has(object.name) && !alsoReferenced.has(object.name));
    const orphans = unreferenced.filter((object) => object.lastModified.getTime() <= cutoff);
    const keeping = columns.filter((c) => c.field.keepFiles).map((c) => label(c));
    const report: ReconcileStorageReport = {
      storage: storage.name,
      fields: [...new Set(columns.map(label))],
      prefixes,
      objects: listed.length,
      referenced: referenced.size,
      orphans,
      recent: unreferenced.length - orphans.length,
      missing: [...referenced]
        .filter(([key]) => !names.has(key) && prefixes.some((prefix) => prefix === "" || key.startsWith(prefix)))
        .filter(([key]) => !foreign.some((inner) => key.startsWith(inner)))
        .flatMap(([, rows]) => rows),
      deleted: 0,
      notDeleted: null,
      failures: [],
    };
    if (options.deleteOrphans && orphans.length > 0) {
      if (keeping.length > 0) {
        report.notDeleted =
          `${keeping.join(", ")} keeps replaced and removed files (keepFiles), so unreferenced objects in this ` +
          "storage are kept on purpose; delete them yourself if you no longer want them.";
      } else {
        await deleteAll(storage, orphans, concurrency, report);
      }
    }
    reports.push(report);
  }
  return reports;
}

/**
 * Where a storage keeps its objects: a namespace (an S3 endpoint and bucket, the file system, or the
 * storage itself) and its location's prefix in it.
 */
function placeOf(storage: Storage): { space: unknown; prefix: string } {
  if (storage instanceof S3Storage) {
    const { endpointUrl, regionName, bucketName, keyPrefix } = storage.settings;
    return { space: `s3 ${endpointUrl?.href ?? regionName ?? ""} ${bucketName}`, prefix: keyPrefix };
  }
  if (storage instanceof FileSystemStorage) {
    return { space: "file system", prefix: `${path.resolve(storage.location).split(path.sep).join("/")}/` };
  }
  return { space: storage, prefix: "" };
}

/**
 * What the other storages of the DataSource mean for `storage`'s listing: the keys they reference at
 * the very same place (a second name for one bucket location), and the key prefixes of those whose
 * location lies inside its own, whose objects are theirs, not orphans of `storage`.
 */
function neighbours(
  storage: Storage,
  referencedBy: ReadonlyMap<Storage, ReadonlyMap<string, MissingFile[]>>,
): { alsoReferenced: Set<string>; foreign: string[] } {
  const here = placeOf(storage);
  const alsoReferenced = new Set<string>();
  const foreign: string[] = [];
  for (const [other, keys] of referencedBy) {
    if (other === storage) continue;
    const there = placeOf(other);
    if (there.space !== here.space || !there.prefix.startsWith(here.prefix)) continue;
    if (there.prefix === here.prefix) for (const key of keys.keys()) alsoReferenced.add(key);
    else foreign.push(there.prefix.slice(here.prefix.length));
  }
  return { alsoReferenced, foreign };
}

/** The file columns of every entity of the DataSource, embedded ones included, with their fields. */
function fileColumns(dataSource: DataSource): FileColumn[] {
  const found: FileColumn[] = [];
  const seen = new Set<string>();
  // Single-table inheritance: a column of the parent's table is read once, through the parent (all its
  // rows); a child's query would see only the child's rows.
  const metadatas = [...dataSource.entityMetadatas].sort(
    (a, b) => Number(a.tableType === "entity-child") - Number(b.tableType === "entity-child"),
  );
  for (const metadata of metadatas) {
    for (const column of metadata.columns) {
      if (!(column.transformer instanceof FileColumnTransformer) || column.embeddedMetadata?.isArray) continue;
      const where = `${metadata.tablePath}\u0000${column.databaseName}`;
      if (seen.has(where)) continue;
      seen.add(where);
      const owner = column.embeddedMetadata ? column.embeddedMetadata.type : column.target;
      const field = typeof owner === "function" ? fieldNamed(owner, column.propertyName) : undefined;
      const entity =
        typeof column.target === "function" && dataSource.hasMetadata(column.target)
          ? dataSource.getMetadata(column.target).name
          : metadata.name;
      if (field) found.push({ metadata, column, field, label: `${entity}.${column.propertyPath}` });
    }
  }
  return found;
}

function fieldNamed(owner: Function, propertyName: string): FileFieldDefinition | undefined {
  return getFileFields(owner).find((field) => field.propertyName === propertyName);
}

const label = (column: FileColumn) => column.label;

/**
 * The directories every upload of these fields goes under: the part of each `uploadTo` template before
 * its first `%` directive, cut at a `/`. "" (the whole storage) when a field has a function or no
 * directory; prefixes inside another are dropped.
 */
function listedPrefixes(fields: readonly FileFieldDefinition[]): string[] {
  const prefixes = new Set<string>();
  for (const { uploadTo } of fields) {
    if (typeof uploadTo !== "string") return [""];
    const fixed = uploadTo.includes("%") ? uploadTo.slice(0, uploadTo.indexOf("%")) : `${uploadTo}/`;
    const dir = fixed.slice(0, fixed.lastIndexOf("/") + 1).replace(/^\/+/, "");
    if (dir === "") return [""];
    prefixes.add(dir.replace(/\/+$/, "/"));
  }
  const sorted = [...prefixes].sort();
  return sorted.filter((prefix) => !sorted.some((other) => other !== prefix && prefix.startsWith(other)));
}

/** The non-empty keys a file column holds, with the primary key of each row, a page at a time. */
async function* keysOf(
  dataSource: DataSource,
  { metadata, column, label: field }: FileColumn,
): AsyncGenerator<MissingFile> {
  const primary = metadata.primaryColumns;
  for (let offset = 0; ; offset += PAGE) {
    const query = dataSource
      .createQueryBuilder()
      .from(metadata.target, "t")
      .select(`t.${column.propertyPath}`, "key")
      .where(`t.${column.propertyPath} IS NOT NULL`)
      .andWhere(`t.${column.propertyPath} <> ''`);
    primary.forEach((pk, i) => {
      query.addSelect(`t.${pk.propertyPath}`, `pk${i}`).addOrderBy(`t.${pk.propertyPath}`, "ASC");
    });
    const rows: Record<string, unknown>[] = await query.offset(offset).limit(PAGE).getRawMany();
    for (const row of rows) {
      const id = Object.fromEntries(primary.map((pk, i) => [pk.propertyPath, row[`pk${i}`]]));
      yield { field, id, key: String(row.key) };
    }
    if (rows.length < PAGE) return;
  }
}

async function deleteAll(
  storage: Storage,
  orphans: readonly StoredObject[],
  concurrency: number,
  report: ReconcileStorageReport,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < orphans.length) {
      const { name } = orphans[next++];
      try {
        await storage.delete(name);
        report.deleted++;
      } catch (error) {
        report.failures.push({ name, reason: error instanceof Error ? error.message : String(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, orphans.length) }, worker));
}

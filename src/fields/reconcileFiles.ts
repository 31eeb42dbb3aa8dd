import type { DataSource } from "typeorm";
import { StorageConfigError } from "../errors/StorageConfigError";
import { refusedListing } from "../storage/refusedListing";
import type { Storage } from "../storage/Storage";
import { placesOverlap, placeWithin, type StoragePlace, storagePlace } from "../storage/storagePlace";
import type { StoredObject } from "../types";
import type { FileFieldDefinition } from "./FileFieldDefinition";
import { type FileKeyColumn, fileKeyColumns, keysOf, rowsNaming } from "./fileKeyColumns";

/** Objects younger than this are never orphans: their row may not be committed yet (bytes go first). */
export const DEFAULT_ORPHAN_MIN_AGE = 24 * 3600;

export interface ReconcileFilesOptions {
  /**
   * Seconds an unreferenced object must have existed to count as an orphan (default one day): an
   * upload is stored before its row is written, and a transaction may still be open. An object listed
   * without a modification time is never old enough.
   */
  minAge?: number;
  /** Delete the orphans found (default false: report only). */
  deleteOrphans?: boolean;
  /** Only the storages of these names (default: every storage a file column of the DataSource uses). */
  storages?: readonly string[];
  /** Deletions in parallel (default 8). */
  concurrency?: number;
  /**
   * Stops the run (Ctrl-C): no deletion starts once it fired, those in flight finish, and the storages
   * not compared yet are not reported; the report of the storage it stopped says `aborted`.
   */
  signal?: AbortSignal;
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
  /** Unreferenced objects younger than `minAge`, or whose age the listing does not give: left alone. */
  recent: number;
  /**
   * Rows naming a key under those prefixes that the storage does not have (for columns whose every
   * use keeps its files in this storage).
   */
  missing: MissingFile[];
  /** Orphans deleted (with `deleteOrphans`). */
  deleted: number;
  /**
   * Orphans not deleted because a row named them when checked again just before deleting (written
   * while the storage was compared); they are not in `orphans`.
   */
  keptOnRecheck: number;
  /** Why the orphans of this storage were not deleted although asked, or null. */
  notDeleted: string | null;
  /** Orphans whose deletion failed, and why. */
  failures: { name: string; reason: string }[];
  /** The signal stopped the deletions before every orphan was handled: some are left. */
  aborted: boolean;
}

/**
 * Compares the objects of every storage the DataSource's file columns use with the keys their rows
 * hold: objects no row names (orphans: left by raw SQL deletes, cascades, `orphanedRowAction`, crashed
 * requests, uploads never attached) and rows whose object is missing. Lists each storage once (under
 * the fields' `uploadTo` directories when every field has a template, else whole) and reads the key
 * columns page by page, soft-deleted rows included.
 *
 * A key counts wherever it points: storages sharing a place (two names for one location, one
 * location inside another, columns declared with different storages by classes sharing a table) see
 * each other's keys. With `deleteOrphans` each orphan is checked against the database once more just
 * before it is deleted, and nothing is deleted where a field sharing the place keeps replaced files
 * (`keepFiles`): its old files are unreferenced on purpose.
 *
 * Objects saved into the same directories by other code, and storages no file column uses, are
 * unknown to it: run it without `deleteOrphans` first. Throws `StorageConfigError` for a DataSource
 * that is not initialized, a bad option, or a storage it may not list for its settings (a missing
 * bucket, refused credentials: `refusedListing`), and the storage's or the driver's error when listing
 * or reading fails otherwise.
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

  const columns = fileKeyColumns(dataSource);
  const used = [...new Set(columns.flatMap((c) => c.uses.map((use) => use.storage)))];
  const wanted = options.storages;
  if (wanted) {
    const names = new Set(used.map((storage) => storage.name));
    const unknown = wanted.filter((name) => !names.has(name));
    if (unknown.length > 0)
      throw new StorageConfigError(
        `No file column of this DataSource keeps its files in ${unknown.map((n) => `"${n}"`).join(", ")}. ` +
          `Those it uses: ${[...names].map((n) => `"${n}"`).join(", ") || "none"}.`,
      );
  }
  const keysIn = new Map<FileKeyColumn, string[]>();
  for (const column of columns) {
    const keys: string[] = [];
    for await (const key of keysOf(dataSource, column)) keys.push(key);
    keysIn.set(column, keys);
  }

  const reports: ReconcileStorageReport[] = [];
  for (const storage of used) {
    if (options.signal?.aborted) break;
    if (wanted && !wanted.includes(storage.name ?? "")) continue;
    reports.push(await reconcileStorage(dataSource, storage, columns, keysIn, { cutoff, concurrency, options }));
  }
  return reports;
}

async function reconcileStorage(
  dataSource: DataSource,
  storage: Storage,
  columns: readonly FileKeyColumn[],
  keysIn: ReadonlyMap<FileKeyColumn, string[]>,
  { cutoff, concurrency, options }: { cutoff: number; concurrency: number; options: ReconcileFilesOptions },
): Promise<ReconcileStorageReport> {
  const here = storagePlace(storage);
  const mine = columns.filter((c) => c.uses.some((use) => use.storage === storage));
  const fields = mine.flatMap((c) => c.uses.filter((use) => use.storage === storage));
  const prefixes = listedPrefixes(fields.map((use) => use.field));
  // locations of other storages inside this one: their objects are theirs
  const foreign = [...new Set(columns.flatMap((c) => c.uses.map((use) => use.storage)))]
    .map(storagePlace)
    .filter((there) => placeWithin(there, here) && there.prefix !== here.prefix)
    .map((there) => there.prefix.slice(here.prefix.length));

  const listed: StoredObject[] = [];
  // a storage it may not list for its settings (no such bucket, credentials refused) is a configuration error
  for (const prefix of prefixes)
    for (const object of await storage.listAll(prefix).catch((error: unknown) => {
      throw refusedListing(error) ?? error;
    }))
      if (!foreign.some((inner) => object.name.startsWith(inner))) listed.push(object);
  const names = new Set(listed.map((object) => object.name));

  // every key of every column, wherever its storage lies, as a name in this storage
  const referenced = new Set<string>();
  for (const column of columns) {
    for (const use of column.uses) {
      const there = storagePlace(use.storage);
      if (there.space !== here.space) continue;
      for (const key of keysIn.get(column) ?? []) {
        const absolute = there.prefix + key;
        if (absolute.startsWith(here.prefix)) referenced.add(absolute.slice(here.prefix.length));
      }
    }
  }
  const own = new Set(mine.flatMap((c) => keysIn.get(c) ?? []));
  const unreferenced = listed.filter((object) => !referenced.has(object.name));
  // An object whose age the backend does not tell (S3 lists it without LastModified: the driver's
  // epoch) may be an upload whose row is about to be written: never an orphan, however old it looks.
  let orphans = unreferenced.filter((object) => {
    const time = object.lastModified.getTime();
    return time > 0 && time <= cutoff;
  });
  const within = (key: string) =>
    prefixes.some((prefix) => prefix === "" || key.startsWith(prefix)) &&
    !foreign.some((inner) => key.startsWith(inner));
  const report: ReconcileStorageReport = {
    storage: storage.name,
    fields: [...new Set(fields.map((use) => use.label))],
    prefixes,
    objects: listed.length,
    referenced: own.size,
    orphans,
    recent: unreferenced.length - orphans.length,
    missing: [],
    deleted: 0,
    keptOnRecheck: 0,
    notDeleted: null,
    failures: [],
    aborted: false,
  };
  // the rows of missing keys, asked for by key (only keys are held while comparing)
  for (const column of mine.filter((c) => c.uses.every((use) => use.storage === storage))) {
    const gone = [...new Set(keysIn.get(column) ?? [])].filter((key) => within(key) && !names.has(key));
    const field = [...new Set(column.uses.map((use) => use.label))].join(" or ");
    for (const row of await rowsNaming(dataSource, column, gone)) report.missing.push({ field, ...row });
  }
  if (!options.deleteOrphans || orphans.length === 0) return report;

  const keeping = columns.flatMap((c) =>
    c.uses
      .filter((use) => use.field.keepFiles && placesOverlap(storagePlace(use.storage), here))
      .map((use) => use.label),
  );
  if (keeping.length > 0) {
    report.notDeleted =
      `${[...new Set(keeping)].join(", ")} keeps replaced and removed files (keepFiles) where this storage keeps ` +
      "its objects, so unreferenced objects there are kept on purpose; delete them yourself if you no longer want them.";
    return report;
  }
  const stillNamed = await namedNow(
    dataSource,
    here,
    columns,
    orphans.map((object) => object.name),
  );
  orphans = orphans.filter((object) => !stillNamed.has(object.name));
  report.keptOnRecheck = report.orphans.length - orphans.length;
  report.orphans = orphans;
  await deleteAll(storage, orphans, concurrency, report, options.signal);
  return report;
}

/**
 * Which of `names` (in the storage at `here`) a row names now, asked of the database again just
 * before deleting: rows written or changed while the storage was compared, and pages a concurrent
 * delete shifted past the reading, are seen. Asked of the master of a replicated DataSource: a replica
 * lagging behind would miss the rows just written.
 */
async function namedNow(
  dataSource: DataSource,
  here: StoragePlace,
  columns: readonly FileKeyColumn[],
  names: readonly string[],
): Promise<Set<string>> {
  const named = new Set<string>();
  const master = dataSource.createQueryRunner("master");
  try {
    for (const column of columns) {
      for (const use of column.uses) {
        const there = storagePlace(use.storage);
        if (there.space !== here.space) continue;
        // this name, as a key of that storage
        const asKey = new Map<string, string>();
        for (const name of names) {
          const absolute = here.prefix + name;
          if (absolute.startsWith(there.prefix)) asKey.set(absolute.slice(there.prefix.length), name);
        }
        if (asKey.size === 0) continue;
        for (const { key } of await rowsNaming(master.manager, column, [...asKey.keys()]))
          named.add(asKey.get(key) as string);
      }
    }
  } finally {
    await master.release();
  }
  return named;
}

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

async function deleteAll(
  storage: Storage,
  orphans: readonly StoredObject[],
  concurrency: number,
  report: ReconcileStorageReport,
  signal: AbortSignal | undefined,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < orphans.length) {
      if (signal?.aborted) {
        report.aborted = true;
        return;
      }
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

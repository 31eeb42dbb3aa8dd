import type { DataSource } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata";
import type { EntityMetadata } from "typeorm/metadata/EntityMetadata";
import { storages } from "../storage/storages";
import { FileColumnTransformer } from "./FileColumnTransformer";
import { readRaw, setBoundDataSource, toRaw } from "./fileFieldState";
import { type FileAccessor, findFileAccessor } from "./installFileAccessor";
import { objectAt } from "./objectAt";
import { isCopyingValues, watchValueCopies } from "./plainObjectCopies";
import { whenFieldStorageReady } from "./storageReadiness";

/**
 * Per DataSource, the metadata list last patched, so each list (and so each column) is patched once:
 * `initialize()` after `destroy()` builds a new one.
 */
const patched = new WeakMap<DataSource, readonly EntityMetadata[]>();

/*
 * What TypeORM does per row and column goes through `ColumnMetadata` objects, one set per DataSource.
 * For file columns (of the entity or of an embedded object in it) this replaces, once per DataSource
 * (and, for every entity with file columns, `EntityMetadata.create`, which binds each hydrated row:
 * `bindWhatLoads`):
 *
 * - `getEntityValue(entity)`: TypeORM would read our accessor, which always returns a FieldFile. It
 *   reads the raw key instead, so that a property never set (or not selected) reads as `undefined`
 *   and TypeORM leaves the column untouched, exactly as for a plain column.
 * - `setEntityValue(entity, value)`: hydration hands the loaded key straight to the field's
 *   `FileAccessor` instead of going through the property's setter. That also binds the row to this
 *   DataSource (`entity.file.save()` persists through it), reports a class field hiding the accessor,
 *   and starts the field's storage getting ready if it is not, so that the load waits for it
 *   (storageReadiness.ts, FileFieldSubscriber's `afterLoad`). Values `create()`, `merge()` and
 *   `preload()` copy in come through here too, but are your assignments: they go through the
 *   property's setter instead (plainObjectCopies.ts).
 *
 * Doing this here rather than in a per-row `afterLoad` makes a loaded row cost the subscriber nothing
 * once its storages are ready, for every entity class, not only those with file fields
 * (docs/benchmarks.md). Plain objects (criteria, partial updates) keep TypeORM's code.
 */
export function patchFileColumns(dataSource: DataSource): void {
  if (!dataSource.isInitialized || patched.get(dataSource) === dataSource.entityMetadatas) return;
  patched.set(dataSource, dataSource.entityMetadatas);
  watchValueCopies(dataSource);
  for (const metadata of dataSource.entityMetadatas) {
    let hasFileColumns = false;
    for (const column of metadata.columns) {
      if (!(column.transformer instanceof FileColumnTransformer)) continue;
      hasFileColumns = true;
      // arrays of embeddeds (MongoDB only) keep TypeORM's code
      if (!column.embeddedMetadata?.isArray) patchColumn(column, dataSource);
    }
    if (hasFileColumns) bindWhatLoads(metadata, dataSource);
  }
}

/**
 * Binds every row TypeORM hydrates for `metadata` to `dataSource` as it creates the entity, so that
 * `row.file.save()` persists through the DataSource that loaded the row even when a `select` left every
 * file column out (the column setters below then never run for it).
 */
function bindWhatLoads(metadata: EntityMetadata, dataSource: DataSource): void {
  const create = metadata.create.bind(metadata);
  metadata.create = (queryRunner, options) => {
    const entity = create(queryRunner, options);
    if (options?.fromDeserializer && !options.pojo) setBoundDataSource(entity, dataSource);
    return entity;
  };
}

function patchColumn(column: ColumnMetadata, dataSource: DataSource): void {
  const originalGet = column.getEntityValue.bind(column);
  const originalSet = column.setEntityValue.bind(column);
  const transformer = column.transformer as FileColumnTransformer;
  const { propertyName } = column;
  const describe = () => `${column.entityMetadata.name}.${propertyName}`;

  // The accessor of the last class seen (the rows of one load are all one class), and the registry
  // generation in which its storage was last found ready (-1: not yet).
  let lastClass: unknown;
  let lastAccessor: FileAccessor | undefined;
  let readyAccessor: FileAccessor | undefined;
  let readyIn = -1;
  /** The accessor instances of `entity`'s class read this column through, if any. */
  const classAccessorOf = (entity: object): FileAccessor | undefined => {
    const cls = entity.constructor;
    if (cls !== lastClass) {
      lastAccessor = findFileAccessor(Object.getPrototypeOf(entity), propertyName);
      lastClass = cls;
    }
    return lastAccessor;
  };

  // For a column of an embedded object (`@Column(() => Media)`), the object holding the property is
  // found along the embedded path; where it is missing, TypeORM's code reads undefined or creates it.
  const path = column.embeddedMetadata?.parentPropertyNames;
  const holderOf = (entity: unknown): object | undefined =>
    path ? objectAt(entity, path) : typeof entity === "object" && entity !== null ? entity : undefined;

  column.getEntityValue = (entity: any, transform = false) => {
    const holder = holderOf(entity);
    // a data property of the same name (a plain object, or a class field hiding the accessor) is TypeORM's to read
    if (
      holder === undefined ||
      classAccessorOf(holder) === undefined ||
      (Object.hasOwn(holder, propertyName) && !findFileAccessor(holder, propertyName))
    )
      return originalGet(entity, transform);
    const raw = readRaw(holder, propertyName);
    return transform ? transformer.to(raw) : raw;
  };

  column.setEntityValue = (entity: any, value: any) => {
    const holder = holderOf(entity);
    const accessor = holder && classAccessorOf(holder);
    if (!holder || !accessor) return originalSet(entity, value);
    // create/merge/preload: checked, marked changed and cleared by null exactly as `entity.file = value`
    if (isCopyingValues()) {
      (holder as Record<string, unknown>)[propertyName] = value;
      return;
    }
    // After a save TypeORM sets every nullable column it did not write to null on the entity. For a
    // file column that would turn "untouched" into "cleared", and the next save would empty the
    // column and delete the file. A NULL from TypeORM over a never-set field therefore keeps it unset
    // (it still reads as an empty FieldFile); only your own assignments clear a field.
    if ((value === null || value === undefined) && readRaw(holder, propertyName) === undefined) {
      accessor.touch(holder, dataSource);
      return;
    }
    const raw = typeof value === "string" ? value : toRaw(value, describe);
    accessor.assign(holder, raw, dataSource);
    if (raw && (readyIn !== storages.generation || readyAccessor !== accessor)) {
      readyIn = noteLoadedKey(accessor);
      readyAccessor = accessor;
    }
  };
}

/**
 * Starts the field's storage getting ready, if it is not, so the load waits for it (FileFieldSubscriber).
 * Returns the registry generation in which the storage was ready, or -1 when it is not (yet).
 */
function noteLoadedKey(accessor: FileAccessor): number {
  const { field } = accessor;
  // a storage given as a function may resolve differently at each call: never trusted for later
  return whenFieldStorageReady(field) === null && typeof field.storage !== "function" ? storages.generation : -1;
}

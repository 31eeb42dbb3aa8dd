import {
  type BeforeQueryEvent,
  type DataSource,
  type EntitySubscriberInterface,
  EventSubscriber,
  type InsertEvent,
  type LoadEvent,
  type QueryRunner,
  type RemoveEvent,
  type TransactionCommitEvent,
  type TransactionRollbackEvent,
  type TransactionStartEvent,
  type UpdateEvent,
} from "typeorm";
import type { EntityMetadata } from "typeorm/metadata/EntityMetadata";
import { type CleanupTask, runCleanup } from "./cleanup";
import { completeDatabaseKeys, forgetRemovedRows, isRowGone, loadRemovedRow, takeRemovedRow } from "./databaseKeys";
import { bindEntity, trackDataSources } from "./dataSources";
import type { FileFieldDefinition } from "./FileFieldDefinition";
import { isChanged, markSaved, readRaw } from "./fileFieldState";
import { getFileFields } from "./fileFields";
import { assertNotShadowed } from "./installFileAccessor";
import { objectAt } from "./objectAt";
import { patchFileColumns } from "./patchFileColumns";
import { abandonedBy, clearPending, isPending } from "./pendingUploads";
import { type LettingGo, requireStorage } from "./requireStorage";
import { resolveStorage, resolveStorageIfConfigured } from "./resolveStorage";
import { isAnyStorageGettingReady, whenFieldStorageReady } from "./storageReadiness";
import {
  commitFrame,
  type FieldRestore,
  includesKey,
  openFrame,
  queueInFrame,
  rollbackFrame,
  type StoredKey,
} from "./transactionFrames";

trackDataSources();

const nameOf = (raw: string | null | undefined) => (raw ? raw : null);

function fieldsOf(entity: unknown): readonly FileFieldDefinition[] {
  if (typeof entity !== "object" || entity === null) return [];
  return getFileFields(entity.constructor);
}

/** One file field of a saved or removed row: on the entity itself, or on an embedded object in it. */
interface FieldSlot {
  field: FileFieldDefinition;
  /** The object holding the field now, and in the database entity TypeORM compared it with. */
  holder: object;
  databaseHolder: object | undefined;
  /** The column's property path, as in `updatedColumns` (`file`, or `media.file` when embedded). */
  path: string;
}

/**
 * The file fields of `entity` and, given its metadata, of the embedded objects (`@Column(() => Media)`)
 * it holds.
 */
function slotsOf(entity: object, databaseEntity: object | undefined, metadata?: EntityMetadata): FieldSlot[] {
  const slots: FieldSlot[] = fieldsOf(entity).map((field) => ({
    field,
    holder: entity,
    databaseHolder: databaseEntity,
    path: field.propertyName,
  }));
  for (const embedded of metadata?.allEmbeddeds ?? []) {
    const holder = embedded.isArray ? undefined : objectAt(entity, embedded.parentPropertyNames);
    if (!holder) continue;
    const databaseHolder = objectAt(databaseEntity, embedded.parentPropertyNames);
    for (const field of fieldsOf(holder))
      slots.push({ field, holder, databaseHolder, path: `${embedded.propertyPath}.${field.propertyName}` });
  }
  return slots;
}

/**
 * The keys a saved row holds once the save is written, with their storages: each field's new key, or
 * the database's where the save leaves the column alone (not written, never set, not selected). A
 * field whose storage this process has not configured (a worker configuring only what it uses) holds
 * nothing another field's storage could name, and must not fail a save that leaves it alone.
 */
function keysHeld(slots: readonly FieldSlot[], written?: ReadonlySet<string>): StoredKey[] {
  const held: StoredKey[] = [];
  for (const { field, holder, databaseHolder, path } of slots) {
    const stored = databaseHolder ? readRaw(databaseHolder, field.propertyName) : undefined;
    const own = readRaw(holder, field.propertyName);
    const raw = own === undefined || (written && !written.has(path)) ? stored : own;
    if (!raw) continue;
    const storage = resolveStorageIfConfigured(field.storage);
    if (storage) held.push({ storage, key: raw });
  }
  return held;
}

/**
 * What a loaded row waits for while a storage is getting ready: the `ready()` of the storage of each
 * of its non-empty file fields.
 */
function waitForStorages(entity: object, event?: LoadEvent<object>): Promise<void> | undefined {
  const pending: Promise<void>[] = [];
  for (const { field, holder } of slotsOf(entity, undefined, event?.metadata)) {
    if (!readRaw(holder, field.propertyName)) continue;
    const ready = whenFieldStorageReady(field);
    if (ready) pending.push(ready);
  }
  return pending.length ? Promise.all(pending).then(() => undefined) : undefined;
}

/**
 * Makes sure, before the statement runs, that the storage of each file the save or removal will delete
 * after it resolves (requireStorage.ts): for a removal (`slots` of the row), every non-empty field
 * that does not keep its files; for a save, those your code changed to another value. Throws the
 * refusal.
 */
function assertDeletable(slots: readonly FieldSlot[], lettingGo: LettingGo): void {
  for (const { field, holder, databaseHolder } of slots) {
    if (field.keepFiles) continue;
    const oldName = databaseHolder ? nameOf(readRaw(databaseHolder, field.propertyName)) : null;
    if (oldName === null) continue;
    if (lettingGo === "save") {
      const newRaw = readRaw(holder, field.propertyName);
      if (newRaw === undefined || nameOf(newRaw) === oldName || !isChanged(holder, field.propertyName)) continue;
    }
    requireStorage(field, oldName, lettingGo);
  }
}

/**
 * Runs `check` once `load` (when given) is done. A refusal is returned as a rejected promise, never
 * thrown: TypeORM then awaits it with the other rows' before-events, which may still be loading keys.
 */
function thenCheck(load: Promise<unknown> | undefined, check: () => void): Promise<void> | undefined {
  if (load) return load.then(check);
  try {
    check();
    return undefined;
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Binds loaded and saved entities to their DataSource and runs the file lifecycle: new uploads are
 * deleted when their transaction (or savepoint) rolls back; replaced and removed files are deleted
 * after the outermost transaction commits. Register it: `subscribers: [FileFieldSubscriber]`.
 */
@EventSubscriber()
export class FileFieldSubscriber implements EntitySubscriberInterface {
  get [Symbol.toStringTag](): string {
    return "FileFieldSubscriber";
  }

  /**
   * TypeORM looks `afterLoad` up once per load and then calls it once per row. Loaded rows are bound
   * and checked as TypeORM builds them (patchFileColumns.ts), so the subscriber offers `afterLoad`
   * only while a storage that loaded rows use is still getting ready; then the load waits for it, so
   * that `url()` works on what it returns. Otherwise a load costs the subscriber nothing per row.
   */
  get afterLoad(): ((entity: object, event?: LoadEvent<object>) => Promise<void> | undefined) | undefined {
    return isAnyStorageGettingReady() ? waitForStorages : undefined;
  }

  /**
   * Makes sure the DataSource's file columns are patched before any row loads, also for a DataSource
   * that initialized before this module loaded (subscribers given as file globs) or through another
   * copy of TypeORM; a WeakMap lookup per query otherwise.
   */
  beforeQuery(event: BeforeQueryEvent): void {
    patchFileColumns(event.dataSource);
  }

  beforeInsert(event: InsertEvent<object>): void {
    this.#prepare(event.entity, event.dataSource);
  }

  /**
   * Also loads the old keys of `select: false` file columns TypeORM left out of `databaseEntity`, and
   * reads again, under the row's lock, those of the fields your code changed (databaseKeys.ts). Rejects
   * with `StorageConfigError`, before the UPDATE, when a file the save replaces or clears is on a
   * storage this process cannot resolve.
   */
  beforeUpdate(event: UpdateEvent<object>): Promise<void> | undefined {
    if (!event.entity) return undefined;
    const entity = event.entity as object;
    this.#prepare(entity, event.dataSource);
    if (!event.databaseEntity) return undefined;
    const { databaseEntity, metadata } = event;
    // asked only where a locking read applies: nothing more per save elsewhere
    const changed = () => {
      const paths = new Set<string>();
      for (const { field, holder, path } of slotsOf(entity, databaseEntity, metadata))
        if (isChanged(holder, field.propertyName)) paths.add(path);
      return paths;
    };
    const load = completeDatabaseKeys(event.queryRunner, metadata, databaseEntity, entity, changed);
    return thenCheck(load, () => assertDeletable(slotsOf(entity, databaseEntity, metadata), "save"));
  }

  /**
   * Loads the keys the row holds where TypeORM did not: `select: false` file columns, or the whole row
   * when it gives no `databaseEntity` (an orphan it deletes), so `afterRemove` deletes the right files;
   * and reads them again under the row's lock, as a concurrent save may have replaced them since.
   * Rejects with `StorageConfigError`, before the DELETE, when a file the row holds is to be deleted
   * from a storage this process cannot resolve: TypeORM awaits every row's `beforeRemove` before the
   * first DELETE, so a removal of several rows, or a cascade, removes none of them.
   */
  beforeRemove(event: RemoveEvent<object>): Promise<void> | undefined {
    const { queryRunner, metadata, databaseEntity } = event;
    const check = (row: object) => assertDeletable(slotsOf(row, row, metadata), "remove");
    if (databaseEntity)
      return thenCheck(completeDatabaseKeys(queryRunner, metadata, databaseEntity), () => check(databaseEntity));
    return loadRemovedRow(queryRunner, metadata, event.entityId)?.then((row) => {
      if (!row) return;
      try {
        check(row);
      } catch (error) {
        // no afterRemove will take it: a connection SQLite keeps for the DataSource would hold it
        takeRemovedRow(queryRunner, metadata, event.entityId);
        throw error;
      }
    });
  }

  afterInsert(event: InsertEvent<object>): Promise<void> {
    return this.#record(event.queryRunner, event.dataSource, event.metadata, event.entity, undefined, "save");
  }

  afterUpdate(event: UpdateEvent<object>): Promise<void> {
    const written = new Set(event.updatedColumns.map((column) => column.propertyPath));
    return this.#record(
      event.queryRunner,
      event.dataSource,
      event.metadata,
      event.entity as object,
      event.databaseEntity,
      "save",
      written,
    );
  }

  afterRemove(event: RemoveEvent<object>): Promise<void> {
    // without a row (none was found) the keys your entity holds are not the row's: none is deleted
    const old = event.databaseEntity ?? takeRemovedRow(event.queryRunner, event.metadata, event.entityId);
    return this.#record(
      event.queryRunner,
      event.dataSource,
      event.metadata,
      old ?? event.entity,
      old,
      "remove",
      undefined,
      event.entity,
    );
  }

  afterTransactionStart(event: TransactionStartEvent): void {
    openFrame(event.queryRunner);
  }

  async afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    if (!event.queryRunner.isTransactionActive) forgetRemovedRows(event.queryRunner);
    await commitFrame(event.queryRunner);
  }

  async afterTransactionRollback(event: TransactionRollbackEvent): Promise<void> {
    if (!event.queryRunner.isTransactionActive) forgetRemovedRows(event.queryRunner);
    await rollbackFrame(event.queryRunner);
  }

  #prepare(entity: object | undefined, dataSource: DataSource): void {
    patchFileColumns(dataSource);
    const fields = fieldsOf(entity);
    if (entity) for (const field of fields) assertNotShadowed(entity, field);
  }

  async #record(
    queryRunner: QueryRunner,
    dataSource: DataSource,
    metadata: EntityMetadata,
    entity: object | undefined,
    databaseEntity: object | undefined,
    kind: "save" | "remove",
    written?: ReadonlySet<string>,
    removed?: object,
  ): Promise<void> {
    if (typeof entity !== "object" || entity === null) return;
    const slots = slotsOf(entity, databaseEntity, metadata);
    if (slots.length === 0) return;
    if (kind === "save") bindEntity(entity, dataSource);
    const uploads: CleanupTask[] = [];
    const deletions: CleanupTask[] = [];
    const restores: FieldRestore[] = [];
    // A key moved to, or swapped with, another field of the row is not let go of by the row.
    const held = kind === "save" ? keysHeld(slots, written) : [];
    const rowGone = kind === "save" && isRowGone(databaseEntity);
    // Keys this save writes into the row: a deletion queued earlier in the transaction because a row
    // let go of one (replaced, then pointed at again) would delete a file the row holds at commit.
    const taken: StoredKey[] = [];
    for (const { field, holder, databaseHolder, path } of slots) {
      if (written && !written.has(path)) continue;
      const newRaw = kind === "remove" ? null : readRaw(holder, field.propertyName);
      if (newRaw === undefined) continue; // never set or not selected: the column was left alone
      const newName = nameOf(newRaw);
      const oldName = databaseHolder ? nameOf(readRaw(databaseHolder, field.propertyName)) : null;
      // the row now holds what the entity holds; only a later change of your own replaces it
      const changed = kind === "save" && isChanged(holder, field.propertyName);
      if (kind === "save") markSaved(holder, field.propertyName);
      if (newName === oldName && kind === "save") continue;
      if (newName === null && oldName === null) continue;
      // an inserted row was never held by anything: the entity keeps what your code gave it
      if (changed && databaseHolder)
        restores.push({
          holder,
          propertyName: field.propertyName,
          written: newRaw,
          previous: readRaw(databaseHolder, field.propertyName),
        });
      const deletes = oldName !== null && !field.keepFiles && (kind === "remove" || changed);
      // Only a deletion needs the storage (checked before the statement, in beforeUpdate and
      // beforeRemove). One this process cannot resolve has no upload of it pending, and no deletion
      // queued for a key to take back.
      const storage = deletes ? resolveStorage(field.storage) : resolveStorageIfConfigured(field.storage);
      if (storage === undefined) continue;
      if (newName !== null) taken.push({ storage, key: newName });
      if (newName !== null && isPending(storage, newName)) {
        uploads.push({ storage, key: newName, reason: "rolled-back" });
        // the row was removed by a request that committed first: the UPDATE wrote the upload nowhere
        if (rowGone) deletions.push({ storage, key: newName, reason: "rolled-back", unlessHeld: true });
      }
      // A key your code did not change is one loaded earlier, stale if another request replaced the
      // file since: TypeORM writes it back, as it does any column, but the file it overwrites stays.
      if (deletes && oldName !== null && !includesKey(held, storage, oldName))
        deletions.push({ storage, key: oldName, reason: kind === "remove" ? "removed" : "replaced" });
    }
    // Uploads the entity's fields let go of before any row held them (a second `save: false`, or an
    // assignment over one) go once this commits: no row holds them then. A removed row holds nothing.
    const owners = kind === "save" ? slots : removed ? slotsOf(removed, undefined, metadata) : [];
    for (const { field, holder } of owners) {
      if (field.keepFiles) continue;
      const current = kind === "save" ? readRaw(holder, field.propertyName) : null;
      for (const { storage, key } of abandonedBy(holder, field.propertyName, current))
        if (!deletions.some((task) => task.storage === storage && task.key === key))
          deletions.push({ storage, key, reason: "abandoned", rowRemoved: kind === "remove" });
    }
    if (queryRunner.isTransactionActive) {
      queueInFrame(queryRunner, { uploads, deletions, restores }, taken);
      return;
    }
    for (const upload of uploads) clearPending(upload.storage, upload.key);
    await runCleanup(deletions, queryRunner);
  }
}

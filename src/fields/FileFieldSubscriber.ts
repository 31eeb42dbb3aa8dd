import {
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
import { StorageConfigError } from "../errors/StorageConfigError";
import type { Storage } from "../storage/Storage";
import { type CleanupTask, runCleanup } from "./cleanup";
import { bindEntity, trackDataSources } from "./dataSources";
import type { FileFieldDefinition } from "./FileFieldDefinition";
import { findState, readRaw, slotKeys } from "./fileFieldState";
import { getFileFields } from "./fileFields";
import { patchFileColumns } from "./patchFileColumns";
import { clearPending, isPending } from "./pendingUploads";
import { resolveStorage } from "./resolveStorage";

trackDataSources();

/** What one transaction level did: uploads to delete on rollback, replaced files to delete on commit. */
interface Frame {
  uploads: CleanupTask[];
  deletions: CleanupTask[];
}

const FRAMES = Symbol.for("typeorm-storages:frames");

/** Per storage: `true` once `ready()` resolved, else the one pending `ready()` every loaded row waits on. */
const readiness = new WeakMap<Storage, Promise<void> | true>();

/**
 * Null once `storage` is ready (so `url()` works on what loads), else the promise of its `ready()`.
 * TypeORM calls `afterLoad` for every row before awaiting any, so the rows of the first load share
 * one promise instead of chaining one each (10,000 of them for 10,000 rows); a failure is forgotten,
 * so the next load tries again.
 */
function whenReady(storage: Storage): Promise<void> | null {
  const state = readiness.get(storage);
  if (state === true) return null;
  if (state) return state;
  const pending = storage.ready().then(
    () => {
      readiness.set(storage, true);
    },
    (error) => {
      readiness.delete(storage);
      throw error;
    },
  );
  readiness.set(storage, pending);
  return pending;
}

function framesOf(queryRunner: QueryRunner): Frame[] {
  const data = queryRunner.data as Record<PropertyKey, unknown>;
  let frames = data[FRAMES] as Frame[] | undefined;
  if (!frames) data[FRAMES] = frames = [];
  return frames;
}

const nameOf = (raw: string | null | undefined) => (raw ? raw : null);

function fieldsOf(entity: unknown): readonly FileFieldDefinition[] {
  if (typeof entity !== "object" || entity === null) return [];
  return getFileFields(entity.constructor);
}

/** A class's file fields with the slot keys of each: what `afterLoad` walks for every loaded row. */
interface LoadField {
  field: FileFieldDefinition;
  raw: symbol;
}

const loadPlans = new WeakMap<Function, readonly LoadField[]>();

function loadPlanOf(entity: object): readonly LoadField[] {
  const ctor = entity.constructor;
  let plan = loadPlans.get(ctor);
  if (!plan) {
    plan = getFileFields(ctor).map((field) => ({ field, raw: slotKeys(field.propertyName).raw }));
    loadPlans.set(ctor, plan);
  }
  return plan;
}

function checkAccessors(entity: object, fields: readonly FileFieldDefinition[]): void {
  for (const field of fields) checkAccessor(entity, field);
}

function checkAccessor(entity: object, field: FileFieldDefinition): void {
  if (!Object.hasOwn(entity, field.propertyName)) return;
  const own = Object.getOwnPropertyDescriptor(entity, field.propertyName);
  if (own && "value" in own) {
    throw new StorageConfigError(
      `${field.target.name}.${field.propertyName} is a plain class field, so it hides the file accessor ` +
        '(TypeScript\'s "useDefineForClassFields" is on, the default for targets >= ES2022). Set ' +
        '"useDefineForClassFields": false in tsconfig.json (swc: jsc.transform.useDefineForClassFields), ' +
        `or declare the property with \`declare ${field.propertyName}: FieldFile;\`.`,
    );
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

  afterLoad(entity: object, event?: LoadEvent<object>): Promise<void> | void {
    if (typeof entity !== "object" || entity === null) return;
    const plan = loadPlanOf(entity);
    if (plan.length === 0) return;
    const state = findState(entity);
    let pending: Promise<void>[] | null = null;
    for (const { field, raw } of plan) {
      const key = state?.[raw];
      // our setter stored the loaded key, so nothing shadows the accessor; otherwise check
      if (key === undefined) checkAccessor(entity, field);
      if (!key) continue;
      let storage: Storage;
      try {
        storage = resolveStorage(field.storage);
      } catch {
        continue; // an unconfigured storage must not break loading; url() will say what is missing
      }
      const ready = whenReady(storage);
      if (ready === null) continue;
      if (pending === null) pending = [];
      pending.push(ready);
    }
    if (event) {
      patchFileColumns(event.dataSource);
      bindEntity(entity, event.dataSource);
    }
    if (pending) return Promise.all(pending).then(() => undefined);
  }

  beforeInsert(event: InsertEvent<object>): void {
    this.#prepare(event.entity, event.dataSource);
  }

  beforeUpdate(event: UpdateEvent<object>): void {
    if (event.entity) this.#prepare(event.entity as object, event.dataSource);
  }

  afterInsert(event: InsertEvent<object>): Promise<void> {
    return this.#record(event.queryRunner, event.dataSource, event.entity, undefined, "save");
  }

  afterUpdate(event: UpdateEvent<object>): Promise<void> {
    const written = new Set(event.updatedColumns.map((column) => column.propertyName));
    return this.#record(
      event.queryRunner,
      event.dataSource,
      event.entity as object,
      event.databaseEntity,
      "save",
      written,
    );
  }

  afterRemove(event: RemoveEvent<object>): Promise<void> {
    const old = event.databaseEntity ?? event.entity;
    return this.#record(event.queryRunner, event.dataSource, old, old, "remove");
  }

  afterTransactionStart(event: TransactionStartEvent): void {
    framesOf(event.queryRunner).push({ uploads: [], deletions: [] });
  }

  async afterTransactionCommit(event: TransactionCommitEvent): Promise<void> {
    const frames = framesOf(event.queryRunner);
    if (event.queryRunner.isTransactionActive) {
      // a savepoint was released: its work now belongs to the enclosing level
      if (frames.length >= 2) {
        const top = frames.pop() as Frame;
        frames[frames.length - 1].uploads.push(...top.uploads);
        frames[frames.length - 1].deletions.push(...top.deletions);
      }
      return;
    }
    const done = frames.splice(0);
    for (const frame of done) for (const upload of frame.uploads) clearPending(upload.storage, upload.key);
    await runCleanup(done.flatMap((frame) => frame.deletions));
  }

  async afterTransactionRollback(event: TransactionRollbackEvent): Promise<void> {
    const frames = framesOf(event.queryRunner);
    const undone = event.queryRunner.isTransactionActive ? frames.splice(-1) : frames.splice(0);
    const uploads = undone.flatMap((frame) => frame.uploads).filter((u) => isPending(u.storage, u.key));
    await runCleanup(uploads);
  }

  #prepare(entity: object | undefined, dataSource: DataSource): void {
    patchFileColumns(dataSource);
    const fields = fieldsOf(entity);
    if (entity && fields.length) checkAccessors(entity, fields);
  }

  async #record(
    queryRunner: QueryRunner,
    dataSource: DataSource,
    entity: object | undefined,
    databaseEntity: object | undefined,
    kind: "save" | "remove",
    written?: ReadonlySet<string>,
  ): Promise<void> {
    const fields = fieldsOf(entity);
    if (!entity || fields.length === 0) return;
    if (kind === "save") bindEntity(entity, dataSource);
    const uploads: CleanupTask[] = [];
    const deletions: CleanupTask[] = [];
    for (const field of fields) {
      if (written && !written.has(field.propertyName)) continue;
      const newRaw = kind === "remove" ? null : readRaw(entity, field.propertyName);
      if (newRaw === undefined) continue; // never set or not selected: the column was left alone
      const newName = nameOf(newRaw);
      const oldName = databaseEntity ? nameOf(readRaw(databaseEntity, field.propertyName)) : null;
      if (newName === oldName && kind === "save") continue;
      if (newName === null && oldName === null) continue;
      const storage = resolveStorage(field.storage);
      if (newName !== null && isPending(storage, newName))
        uploads.push({ storage, key: newName, reason: "rolled-back" });
      if (oldName !== null && !field.keepFiles) {
        deletions.push({ storage, key: oldName, reason: kind === "remove" ? "removed" : "replaced" });
      }
    }
    if (queryRunner.isTransactionActive) {
      const frames = framesOf(queryRunner);
      if (frames.length === 0) frames.push({ uploads: [], deletions: [] });
      const top = frames[frames.length - 1];
      top.uploads.push(...uploads);
      top.deletions.push(...deletions);
      return;
    }
    for (const upload of uploads) clearPending(upload.storage, upload.key);
    await runCleanup(deletions);
  }
}

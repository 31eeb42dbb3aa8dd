import type { Storage } from "../storage/Storage";
import { readRaw, writeRaw } from "./fileFieldState";

/** The field an upload went into: the object holding it, and what it held before. */
export interface PendingField {
  holder: object;
  propertyName: string;
  previous: string | null | undefined;
}

/** A `PendingField` held weakly: an entity that is never saved is not kept alive by its upload. */
type Entry = Omit<PendingField, "holder"> & { holder: WeakRef<object> };

/*
 * Keys this process uploaded through `FieldFile.save()` whose row is not committed yet. Only these
 * are deleted when a transaction rolls back: a key merely assigned to a field (an existing object)
 * is never deleted by a rollback. Each remembers the field it went into, so that a rollback also
 * points the field back at what it held before (`undoPending`).
 */
const pending = new WeakMap<Storage, Map<string, Entry>>();

/** Records a fresh upload that no committed row references yet, and the field it went into. */
export function markPending(storage: Storage, key: string, field: PendingField): void {
  let keys = pending.get(storage);
  if (!keys) {
    keys = new Map();
    pending.set(storage, keys);
  }
  keys.set(key, { holder: new WeakRef(field.holder), propertyName: field.propertyName, previous: field.previous });
}

/** True when `key` was uploaded by this process and its row is not committed. */
export function isPending(storage: Storage, key: string): boolean {
  return pending.get(storage)?.has(key) ?? false;
}

/** Forgets an upload once its row is committed (or the object deleted). */
export function clearPending(storage: Storage, key: string): void {
  pending.get(storage)?.delete(key);
}

/**
 * After a rollback: points the field that took `key` back at what it held before, if it still holds
 * `key` (a later assignment stays), so that saving the entity again cannot write the key of an object
 * the rollback deleted, nor delete the file the row still has as "replaced".
 */
export function undoPending(storage: Storage, key: string): void {
  const entry = pending.get(storage)?.get(key);
  const holder = entry?.holder.deref();
  if (entry && holder && readRaw(holder, entry.propertyName) === key)
    writeRaw(holder, entry.propertyName, entry.previous);
}

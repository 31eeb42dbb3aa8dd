import type { Storage } from "../storage/Storage";

/*
 * Keys this process uploaded through `FieldFile.save()` whose row is not committed yet. Only these
 * are deleted when a transaction rolls back: a key merely assigned to a field (an existing object)
 * is never deleted by a rollback.
 */
const pending = new WeakMap<Storage, Set<string>>();

/** Records a fresh upload that no committed row references yet. */
export function markPending(storage: Storage, key: string): void {
  let keys = pending.get(storage);
  if (!keys) {
    keys = new Set();
    pending.set(storage, keys);
  }
  keys.add(key);
}

/** True when `key` was uploaded by this process and its row is not committed. */
export function isPending(storage: Storage, key: string): boolean {
  return pending.get(storage)?.has(key) ?? false;
}

/** Forgets an upload once its row is committed (or the object deleted). */
export function clearPending(storage: Storage, key: string): void {
  pending.get(storage)?.delete(key);
}

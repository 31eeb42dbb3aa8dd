import type { Storage } from "../storage/Storage";
import type { FileFieldDefinition } from "./FileFieldDefinition";
import { resolveStorageIfConfigured } from "./resolveStorage";

/** Per storage: `true` once `ready()` resolved, else the one pending `ready()` every loaded row waits on. */
const readiness = new WeakMap<Storage, Promise<void> | true>();

/** The `ready()` calls still running, so that a load can wait for them before it hands rows over. */
const pending = new Set<Promise<void>>();

/**
 * Null once `storage` is ready (so `url()` works on what loads), else the promise of its `ready()`.
 * TypeORM hydrates every row of a load before it broadcasts "Load", so the rows of the first load
 * share one promise instead of chaining one each (10,000 of them for 10,000 rows); a failure is
 * forgotten, so the next load tries again.
 */
function whenReady(storage: Storage): Promise<void> | null {
  const state = readiness.get(storage);
  if (state === true) return null;
  if (state) return state;
  const ready = storage.ready().then(
    () => {
      readiness.set(storage, true);
    },
    (error) => {
      readiness.delete(storage);
      throw error;
    },
  );
  readiness.set(storage, ready);
  pending.add(ready);
  const settled = () => {
    pending.delete(ready);
  };
  // also marks the rejection as handled: the load that waits on it reports it, or url() does later
  ready.then(settled, settled);
  return ready;
}

/** True while some storage's `ready()`, started by a load, has not settled. */
export function isAnyStorageGettingReady(): boolean {
  return pending.size > 0;
}

/**
 * `whenReady` for the storage `field` refers to now; `undefined` when no such storage is configured,
 * which must not break loading (`url()` says what is missing).
 */
export function whenFieldStorageReady(field: FileFieldDefinition): Promise<void> | null | undefined {
  const storage = resolveStorageIfConfigured(field.storage);
  return storage && whenReady(storage);
}

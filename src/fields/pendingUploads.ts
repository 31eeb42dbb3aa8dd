import type { Storage } from "../storage/Storage";
import { readRaw, writeRaw } from "./fileFieldState";

/** The field an upload went into: the object holding it, and what it held before. */
export interface PendingField {
  holder: object;
  propertyName: string;
  previous: string | null | undefined;
  /**
   * Kept when its row does not commit (a direct upload: its ticket may be attached again, and a
   * lifecycle rule or `orphans` sweeps it if not); deleted otherwise, as an upload of `save()` is.
   */
  keepOnRollback?: boolean;
  /**
   * Written over whatever object had its name (a storage with `fileOverwrite`): no driver says whether
   * one did, and it may be a committed row's file, so it is never deleted for the upload's sake (by a
   * rollback, a failed save or its field letting go of it); only the field is pointed back. An object
   * that was new stays for `orphans` to sweep: a leak, never a row's file lost.
   */
  overwrote?: boolean;
}

/** One upload no committed row references yet. Its holder is held weakly: an entity never saved is not kept alive. */
interface Entry {
  readonly storage: Storage;
  readonly key: string;
  readonly holder: WeakRef<object>;
  readonly propertyName: string;
  readonly previous: string | null | undefined;
  readonly keepOnRollback: boolean;
  readonly overwrote: boolean;
  /** Another field (of another object, or another field of this one) was pointed at the key. */
  shared: boolean;
}

/** An upload a saved or removed object no longer holds, to delete once its transaction commits. */
export interface AbandonedUpload {
  storage: Storage;
  key: string;
}

/*
 * Keys this process uploaded through `FieldFile.save()` whose row is not committed yet, by key (one
 * entry, but for the same key pending in two storages) and by the object holding them.
 *
 * - A rollback deletes only these: a key merely assigned to a field (an existing object) is never
 *   deleted by a rollback. Each remembers the field it went into, so that a rollback also points the
 *   field back at what it held before (`undoPending`).
 * - An upload its field let go of before any row held it (a second `save(…, { save: false })`, or an
 *   assignment over it, then the save of the object, or its removal) is abandoned: the commit of that
 *   save deletes it (`abandonedBy`, `isStillAbandoned`), unless another field took the key meanwhile.
 */
const byKey = new Map<string, Entry[]>();
const byHolder = new WeakMap<object, Set<Entry>>();

/*
 * An entry whose holder is collected before its row committed or rolled back (an entity given an upload
 * with `save: false`, then never saved: a request that failed validation) is forgotten, or every such
 * upload would stay in `byKey`, with its storage, for the life of the process. Nothing can save that
 * holder any more; its file stays for `orphans` to sweep, as Django leaves it. A transaction level
 * whose rollback or commit still has to deal with the upload keeps the holder alive until then
 * (transactionFrames.ts).
 */
const forgetWhenCollected = new FinalizationRegistry<Entry>((entry) => forget(entry));

function forget(entry: Entry): void {
  const entries = byKey.get(entry.key);
  const at = entries?.indexOf(entry) ?? -1;
  if (!entries || at === -1) return;
  if (entries.length === 1) byKey.delete(entry.key);
  else entries.splice(at, 1);
}

function find(storage: Storage, key: string): Entry | undefined {
  return byKey.get(key)?.find((entry) => entry.storage === storage);
}

/** Records a fresh upload that no committed row references yet, and the field it went into. */
export function markPending(storage: Storage, key: string, field: PendingField): void {
  clearPending(storage, key);
  const entry: Entry = {
    storage,
    key,
    holder: new WeakRef(field.holder),
    propertyName: field.propertyName,
    previous: field.previous,
    keepOnRollback: field.keepOnRollback ?? false,
    overwrote: field.overwrote ?? false,
    shared: false,
  };
  const entries = byKey.get(key);
  if (entries) entries.push(entry);
  else byKey.set(key, [entry]);
  const held = byHolder.get(field.holder);
  if (held) held.add(entry);
  else byHolder.set(field.holder, new Set([entry]));
  forgetWhenCollected.register(field.holder, entry, entry);
}

/** The object whose field took the pending upload `key`, if it is pending and its holder is alive. */
export function pendingHolder(storage: Storage, key: string): object | undefined {
  return find(storage, key)?.holder.deref();
}

/** True when a rollback must leave the pending upload `key` in place (a direct upload). */
export function keepsOnRollback(storage: Storage, key: string): boolean {
  return find(storage, key)?.keepOnRollback === true;
}

/** True when the pending upload `key` may have replaced an existing object, and so is never deleted for it. */
export function overwroteExisting(storage: Storage, key: string): boolean {
  return find(storage, key)?.overwrote === true;
}

/** True when `key` was uploaded by this process and its row is not committed. */
export function isPending(storage: Storage, key: string): boolean {
  return find(storage, key) !== undefined;
}

/**
 * The pending upload `key`'s entry, as an opaque token, or undefined: a new upload of the same name
 * gets a new one, so comparing tokens tells whether the name was taken again in between.
 */
export function pendingToken(storage: Storage, key: string): object | undefined {
  return find(storage, key);
}

/**
 * True when another field was pointed at the pending upload `key` (`noteAssigned`): a rollback of its
 * own field's save leaves it, as the commit of that save leaves it when abandoned.
 */
export function isShared(storage: Storage, key: string): boolean {
  return find(storage, key)?.shared === true;
}

/** Forgets an upload once its row is committed (or the object deleted). */
export function clearPending(storage: Storage, key: string): void {
  const entry = find(storage, key);
  if (!entry) return;
  forget(entry);
  forgetWhenCollected.unregister(entry);
  const holder = entry.holder.deref();
  if (holder) byHolder.get(holder)?.delete(entry);
}

/**
 * Your code pointed `holder`'s field `propertyName` at `key`: if that is a pending upload of another
 * field, it is shared from now on and never deleted as abandoned by its own field's save.
 */
export function noteAssigned(holder: object, propertyName: string, key: string): void {
  const entries = byKey.get(key);
  if (!entries) return;
  for (const entry of entries)
    if (entry.propertyName !== propertyName || entry.holder.deref() !== holder) entry.shared = true;
}

/**
 * The uploads that went into `holder`'s field `propertyName` and that it no longer holds (`current`
 * is what it holds now; `null` once the row is removed), unless another field took them.
 */
export function abandonedBy(
  holder: object,
  propertyName: string,
  current: string | null | undefined,
): AbandonedUpload[] {
  const held = byHolder.get(holder);
  if (!held) return [];
  const abandoned: AbandonedUpload[] = [];
  for (const entry of held)
    if (entry.propertyName === propertyName && entry.key !== current && !entry.shared && !entry.overwrote)
      abandoned.push({ storage: entry.storage, key: entry.key });
  return abandoned;
}

/**
 * Checked again when the save that abandoned an upload commits: still pending (no row committed it
 * in the meantime), not shared, and not held again by its field (which, once the row is removed,
 * holds it for nothing).
 */
export function isStillAbandoned(storage: Storage, key: string, rowRemoved: boolean): boolean {
  const entry = find(storage, key);
  if (!entry || entry.shared) return false;
  const holder = entry.holder.deref();
  return rowRemoved || holder === undefined || readRaw(holder, entry.propertyName) !== key;
}

/**
 * After a rollback: points the field that took `key` back at what it held before, if it still holds
 * `key` (a later assignment stays), so that saving the entity again cannot write the key of an object
 * the rollback deleted, nor delete the file the row still has as "replaced".
 */
export function undoPending(storage: Storage, key: string): void {
  const entry = find(storage, key);
  const holder = entry?.holder.deref();
  if (entry && holder && readRaw(holder, entry.propertyName) === key)
    writeRaw(holder, entry.propertyName, entry.previous);
}

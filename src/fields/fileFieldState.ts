import type { DataSource } from "typeorm";
import { InvalidKeyError } from "../errors/InvalidKeyError";
import type { FieldFile } from "./FieldFile";

/**
 * Everything the library keeps on an entity: the DataSource that loaded or saved it and, per file
 * field, the raw key (`undefined` = never set or not selected) and the cached FieldFile, each under a
 * symbol of its own (`SlotKeys`).
 */
export type FileFieldState = { dataSource: DataSource | null } & Record<
  symbol,
  string | FieldFile | boolean | null | undefined
>;

/**
 * Where a state keeps one field's raw key, its cached FieldFile, and whether your code changed the key
 * since the row was loaded or last saved; one set per property name.
 */
export interface SlotKeys {
  readonly raw: symbol;
  readonly file: symbol;
  readonly changed: symbol;
}

/**
 * Attaches a state to an entity as a non-enumerable symbol property: spreads, `Object.assign`, JSON,
 * `Object.keys` and Jest's equality never see it, and it reaches through proxies (Vue's `reactive()`,
 * MobX), which a private field would not. Loading rows runs this once per row: one
 * `Object.defineProperty` with a reused descriptor (0.13–0.4 µs, by machine). Symbol keys added in the same
 * order give every state the same hidden class, so slot reads and writes are plain property accesses;
 * the null-prototype record of slot objects this replaces cost three times as much, and a WeakMap
 * entry per row about 1 µs (bench/hydrationReplay.ts, docs/benchmarks.md).
 */
const STATE = Symbol.for("typeorm-storages:file-fields");
// Attributes left out default to false (not enumerable, not writable): V8 reads a two-field descriptor
// faster than one spelling all four. Configurable, so a proxy's get trap (Vue's) may wrap the state.
const stateDescriptor: PropertyDescriptor = { value: null, configurable: true };

type WithState = { [STATE]?: FileFieldState };

function findOwnState(entity: object): FileFieldState | undefined {
  return (entity as WithState)[STATE];
}

/**
 * A state is made by a constructor rather than as `{ dataSource: null }`: V8 then sizes it, after the
 * first few, to hold the symbol slots added later in the object itself, so each loaded row allocates
 * one object for its state instead of two (an object literal keeps later properties in a separate
 * array), which is less for the garbage collector to copy.
 */
class StateRecord {
  dataSource: DataSource | null = null;
}

function attachState(entity: object): FileFieldState {
  const state = new StateRecord() as FileFieldState;
  stateDescriptor.value = state;
  try {
    Object.defineProperty(entity, STATE, stateDescriptor);
  } finally {
    stateDescriptor.value = null;
  }
  return state;
}

const keysByName = new Map<string, SlotKeys>();

/** The slot keys of the property `propertyName` (any class: the state is per entity). */
export function slotKeys(propertyName: string): SlotKeys {
  let keys = keysByName.get(propertyName);
  if (!keys) {
    keys = {
      raw: Symbol(`${propertyName}:raw`),
      file: Symbol(`${propertyName}:file`),
      changed: Symbol(`${propertyName}:changed`),
    };
    keysByName.set(propertyName, keys);
  }
  return keys;
}

/** The state of `entity`, if it has one. */
export function findState(entity: object): FileFieldState | undefined {
  return findOwnState(entity);
}

/** The state of `entity`, created on first use. */
export function stateOf(entity: object): FileFieldState {
  return findOwnState(entity) ?? attachState(entity);
}

/** The raw key of a field without creating anything: `undefined` when it was never set or not selected. */
export function readRaw(entity: object, propertyName: string): string | null | undefined {
  const state = findOwnState(entity);
  return state === undefined ? undefined : (state[slotKeys(propertyName).raw] as string | null | undefined);
}

/** Sets the raw key of a field and forgets its cached FieldFile (used to undo a failed save). */
export function writeRaw(entity: object, propertyName: string, raw: string | null | undefined): void {
  const state = stateOf(entity);
  const keys = slotKeys(propertyName);
  state[keys.raw] = raw;
  state[keys.file] = null;
}

/**
 * True when your code gave the field another key (an upload, an assignment, `delete()`) since the row
 * was loaded or last saved. Only then is the file the database row held deleted as replaced: a field
 * merely loaded may hold a stale key that TypeORM writes back over another request's file, which must
 * not cost that file.
 */
export function isChanged(entity: object, propertyName: string): boolean {
  return findOwnState(entity)?.[slotKeys(propertyName).changed] === true;
}

/** Marks the field as written to the database (`isChanged` false until your code changes it again). */
export function markSaved(entity: object, propertyName: string): void {
  const state = findOwnState(entity);
  const { changed } = slotKeys(propertyName);
  if (state?.[changed]) state[changed] = false;
}

/** Records the DataSource that loaded or saved `entity`. */
export function setBoundDataSource(entity: object, dataSource: DataSource): void {
  stateOf(entity).dataSource = dataSource;
}

/** The DataSource that loaded or saved `entity` last, if any. */
export function boundDataSource(entity: object): DataSource | null {
  return findOwnState(entity)?.dataSource ?? null;
}

/** Normalises what may be assigned to a file property into a raw key. */
export function toRaw(value: unknown, describe: () => string): string | null | undefined {
  if (value === undefined || value === null || typeof value === "string") return value;
  if (typeof value === "object" && value !== null && "name" in value && isFieldFileLike(value)) {
    return (value as { name: string | null }).name;
  }
  // a FieldFile's JSON ({ name, url }) sent back by a client, or its structuredClone ({})
  const json = typeof value === "object" && value !== null && typeof (value as { name?: unknown }).name === "string";
  throw new InvalidKeyError(
    `${describe()} takes a FieldFile, a key string or null, not ${json ? "an object with a name (a FieldFile's JSON?)" : typeof value}. ` +
      (json
        ? "Assign its name (entity.file = body.file.name) after checking the caller may use that key, "
        : "Use field.save(filename, content) to upload, ") +
      "or field.assign(key) to point at an existing object.",
  );
}

function isFieldFileLike(value: object): boolean {
  return (value as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === "FieldFile";
}

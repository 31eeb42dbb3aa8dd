import type { DataSource } from "typeorm";
import { InvalidKeyError } from "../errors/InvalidKeyError";
import type { FieldFile } from "./FieldFile";

/**
 * Everything the library keeps on an entity: the DataSource that loaded or saved it and, per file
 * field, the raw key (`undefined` = never set or not selected) and the cached FieldFile, each under a
 * symbol of its own (`SlotKeys`).
 */
export type FileFieldState = { dataSource: DataSource | null } & Record<symbol, string | FieldFile | null | undefined>;

/** Where a state keeps one field's raw key and its cached FieldFile; one pair per property name. */
export interface SlotKeys {
  readonly raw: symbol;
  readonly file: symbol;
}

/** Returns the object it is given from its constructor, so a subclass's private field lands on that object. */
class ReturnTarget {
  constructor(target: object) {
    // biome-ignore lint/correctness/noConstructorReturn: the point of this class (see EntityState)
    return target;
  }
}

/**
 * Attaches a state to an entity as a private field. Private fields are invisible to everything but
 * this class: keys, symbols, spreads, `Object.assign`, JSON, `structuredClone` and Jest's equality.
 * A class constructor that returns another object makes its subclass add private fields to that
 * object (ECMAScript's "return override"), so `new EntityState(entity, state)` adds `#state` to the
 * entity without calling the entity's constructor.
 *
 * Loading rows runs this for every row (bench/, docs/benchmarks.md), hence the choice: a private
 * field costs about as much as a plain property write, where a non-enumerable symbol property
 * (`Object.defineProperty`) cost 0.13 µs per row and a WeakMap entry about 1 µs. Symbol keys added
 * in the same order give every state the same hidden class, so slot reads and writes stay fast too.
 */
class EntityState extends ReturnTarget {
  #state: FileFieldState;

  private constructor(entity: object, state: FileFieldState) {
    super(entity);
    this.#state = state;
  }

  static find(entity: object): FileFieldState | undefined {
    return #state in entity ? (entity as EntityState).#state : undefined;
  }

  static attach(entity: object): FileFieldState {
    const state: FileFieldState = { dataSource: null };
    new EntityState(entity, state);
    return state;
  }
}

const keysByName = new Map<string, SlotKeys>();

/** The slot keys of the property `propertyName` (any class: the state is per entity). */
export function slotKeys(propertyName: string): SlotKeys {
  let keys = keysByName.get(propertyName);
  if (!keys) {
    keys = { raw: Symbol(`${propertyName}:raw`), file: Symbol(`${propertyName}:file`) };
    keysByName.set(propertyName, keys);
  }
  return keys;
}

/** The state of `entity`, if it has one. */
export function findState(entity: object): FileFieldState | undefined {
  return EntityState.find(entity);
}

/** The state of `entity`, created on first use. */
export function stateOf(entity: object): FileFieldState {
  return EntityState.find(entity) ?? EntityState.attach(entity);
}

/** The raw key of a field without creating anything: `undefined` when it was never set or not selected. */
export function readRaw(entity: object, propertyName: string): string | null | undefined {
  const state = EntityState.find(entity);
  return state === undefined ? undefined : (state[slotKeys(propertyName).raw] as string | null | undefined);
}

/** Sets the raw key of a field and forgets its cached FieldFile (used to undo a failed save). */
export function writeRaw(entity: object, propertyName: string, raw: string | null | undefined): void {
  const state = stateOf(entity);
  const keys = slotKeys(propertyName);
  state[keys.raw] = raw;
  state[keys.file] = null;
}

/** Records the DataSource that loaded or saved `entity`. */
export function setBoundDataSource(entity: object, dataSource: DataSource): void {
  stateOf(entity).dataSource = dataSource;
}

/** The DataSource that loaded or saved `entity` last, if any. */
export function boundDataSource(entity: object): DataSource | null {
  return EntityState.find(entity)?.dataSource ?? null;
}

/**
 * Makes an unset field an own enumerable property of `entity` (so JSON sees it) without setting it;
 * reuses the prototype's accessor.
 */
export function touchSlot(entity: object, propertyName: string): void {
  let proto = Object.getPrototypeOf(entity);
  while (proto && !Object.hasOwn(proto, propertyName)) proto = Object.getPrototypeOf(proto);
  const descriptor = proto && Object.getOwnPropertyDescriptor(proto, propertyName);
  if (descriptor?.get) Object.defineProperty(entity, propertyName, descriptor);
}

/** Normalises what may be assigned to a file property into a raw key. */
export function toRaw(value: unknown, describe: () => string): string | null | undefined {
  if (value === undefined || value === null || typeof value === "string") return value;
  if (typeof value === "object" && value !== null && "name" in value && isFieldFileLike(value)) {
    return (value as { name: string | null }).name;
  }
  throw new InvalidKeyError(
    `${describe()} takes a FieldFile, a key string or null, not ${typeof value}. ` +
      "Use field.save(filename, content) to upload, or field.assign(key) to point at an existing object.",
  );
}

function isFieldFileLike(value: object): boolean {
  return (value as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === "FieldFile";
}

import type { DataSource } from "typeorm";
import { InvalidKeyError } from "../errors/InvalidKeyError";
import type { FieldFile } from "./FieldFile";

/** What an entity holds for one file field: the raw key (`undefined` = never set) and the cached FieldFile. */
export interface FileSlot {
  raw: string | null | undefined;
  file: FieldFile | null;
}

/**
 * Everything the library keeps on an entity, under one non-enumerable symbol (spreads, `Object.assign`
 * and JSON never see it): a slot per file field, and the DataSource that loaded or saved it. The
 * DataSource lives here rather than in a WeakMap: hydration binds every loaded row, and a WeakMap entry
 * per row cost about 1 µs, more than the accessor itself (bench/, docs/benchmarks.md).
 */
interface FileFieldState {
  /** Null-prototype record, so any property name is just a key. */
  slots: Record<string, FileSlot>;
  dataSource: DataSource | null;
}

const STATE = Symbol.for("typeorm-storages:file-fields");

type WithState = { [STATE]?: FileFieldState };

function stateOf(entity: object): FileFieldState {
  const holder = entity as WithState;
  let state = holder[STATE];
  if (!state) {
    state = { slots: Object.create(null) as Record<string, FileSlot>, dataSource: null };
    Object.defineProperty(holder, STATE, { value: state, enumerable: false, configurable: true });
  }
  return state;
}

/** The slot of `propertyName` on `entity`, created on demand. */
export function slotOf(entity: object, propertyName: string): FileSlot {
  const { slots } = stateOf(entity);
  let slot = slots[propertyName];
  if (!slot) slots[propertyName] = slot = { raw: undefined, file: null };
  return slot;
}

/** The raw key of a field without creating anything: `undefined` when it was never set or not selected. */
export function readRaw(entity: object, propertyName: string): string | null | undefined {
  return (entity as WithState)[STATE]?.slots[propertyName]?.raw;
}

/** Records the DataSource that loaded or saved `entity`. */
export function setBoundDataSource(entity: object, dataSource: DataSource): void {
  stateOf(entity).dataSource = dataSource;
}

/** The DataSource that loaded or saved `entity` last, if any. */
export function boundDataSource(entity: object): DataSource | null {
  return (entity as WithState)[STATE]?.dataSource ?? null;
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
  slotOf(entity, propertyName);
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

import { InvalidKeyError } from "../errors/InvalidKeyError";
import type { FieldFile } from "./FieldFile";

/** What an entity holds for one file field: the raw key (`undefined` = never set) and the cached FieldFile. */
export interface FileSlot {
  raw: string | null | undefined;
  file: FieldFile | null;
}

const STATE = Symbol.for("typeorm-storages:file-fields");

type WithState = { [STATE]?: Record<string, FileSlot> };

/** The slot of `propertyName` on `entity`, created on demand. */
export function slotOf(entity: object, propertyName: string): FileSlot {
  const holder = entity as WithState;
  let state = holder[STATE];
  if (!state) {
    state = Object.create(null) as Record<string, FileSlot>;
    Object.defineProperty(holder, STATE, { value: state, enumerable: false, configurable: true });
  }
  let slot = state[propertyName];
  if (!slot) state[propertyName] = slot = { raw: undefined, file: null };
  return slot;
}

/** The raw key of a field without creating anything: `undefined` when it was never set or not selected. */
export function readRaw(entity: object, propertyName: string): string | null | undefined {
  return (entity as WithState)[STATE]?.[propertyName]?.raw;
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

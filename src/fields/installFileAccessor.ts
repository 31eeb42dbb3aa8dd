import { FieldFile } from "./FieldFile";
import type { FileFieldDefinition } from "./FileFieldDefinition";
import { slotKeys, stateOf, toRaw } from "./fileFieldState";

/*
 * How a file property works (Django's FileDescriptor, adapted to TypeORM).
 *
 * The decorator puts a get/set accessor on the class prototype. Assignment (by TypeORM while it
 * hydrates a row, or by your code) stores the raw key and does no I/O; reading always returns a
 * FieldFile bound to the entity, built once per key and cached. The raw value stays `undefined` until
 * something assigns it, which is how a never-set or unselected property leaves its column untouched
 * on save: the subscriber makes TypeORM read the raw value, not the FieldFile.
 *
 * On the first assignment the same accessor is also defined on the instance, enumerable, so that
 * `JSON.stringify(entity)`, spreads and `Object.keys(entity)` see loaded file fields (prototype
 * accessors are not own properties). That `Object.defineProperty` is most of what loading a row costs
 * the library (about 0.2 µs per field; docs/benchmarks.md), and the price of spreads working.
 * The raw key and the cached FieldFile live in the entity's hidden state (fileFieldState.ts). Class fields compiled with `useDefineForClassFields: true` would define an own
 * data property in the constructor and hide all of this; the subscriber detects that and says how to
 * fix the tsconfig.
 */
export function installFileAccessor(prototype: object, field: FileFieldDefinition): void {
  const { propertyName } = field;
  const keys = slotKeys(propertyName);
  const describe = () => `${field.target.name}.${propertyName}`;
  const descriptor: PropertyDescriptor = {
    configurable: true,
    enumerable: true,
    get(this: object): FieldFile {
      const state = stateOf(this);
      let file = state[keys.file] as FieldFile | null | undefined;
      if (!file)
        state[keys.file] = file = new FieldFile((state[keys.raw] as string | null | undefined) ?? null, field, this);
      return file;
    },
    set(this: object, value: unknown) {
      const raw = typeof value === "string" ? value : toRaw(value, describe);
      const state = stateOf(this);
      if (!Object.hasOwn(this, propertyName)) Object.defineProperty(this, propertyName, descriptor);
      const file = state[keys.file] as FieldFile | null | undefined;
      if (file && (state[keys.raw] !== raw || file.name !== (raw === "" ? null : (raw ?? null))))
        state[keys.file] = null;
      state[keys.raw] = raw;
    },
  };
  Object.defineProperty(prototype, propertyName, descriptor);
}

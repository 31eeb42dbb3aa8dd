import { FieldFile } from "./FieldFile";
import type { FileFieldDefinition } from "./FileFieldDefinition";
import { slotOf, toRaw } from "./fileFieldState";

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
 * `JSON.stringify(entity)` and `Object.keys(entity)` see loaded file fields (prototype accessors are
 * not own properties). Class fields compiled with `useDefineForClassFields: true` would define an own
 * data property in the constructor and hide all of this; the subscriber detects that and says how to
 * fix the tsconfig.
 */
export function installFileAccessor(prototype: object, field: FileFieldDefinition): void {
  const { propertyName } = field;
  const describe = () => `${field.target.name}.${propertyName}`;
  const descriptor: PropertyDescriptor = {
    configurable: true,
    enumerable: true,
    get(this: object): FieldFile {
      const slot = slotOf(this, propertyName);
      if (slot.file === null) slot.file = new FieldFile(slot.raw ?? null, field, this);
      return slot.file;
    },
    set(this: object, value: unknown) {
      const slot = slotOf(this, propertyName);
      const raw = toRaw(value, describe);
      if (!Object.hasOwn(this, propertyName)) Object.defineProperty(this, propertyName, descriptor);
      if (slot.raw !== raw || slot.file === null || slot.file.name !== (raw === "" ? null : (raw ?? null))) {
        slot.file = null;
      }
      slot.raw = raw;
    },
  };
  Object.defineProperty(prototype, propertyName, descriptor);
}

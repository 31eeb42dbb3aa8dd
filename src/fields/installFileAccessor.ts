import type { DataSource } from "typeorm";
import { InvalidKeyError } from "../errors/InvalidKeyError";
import { StorageConfigError } from "../errors/StorageConfigError";
import { keyLength } from "../keys/getAlternativeName";
import { validateKey } from "../keys/validateKey";
import type { Storage } from "../storage/Storage";
import { FieldFile } from "./FieldFile";
import type { FileFieldDefinition } from "./FileFieldDefinition";
import { type SlotKeys, slotKeys, stateOf, toRaw } from "./fileFieldState";
import { noteAssigned } from "./pendingUploads";
import { resolveStorage } from "./resolveStorage";

/*
 * How a file property works (Django's FileDescriptor, adapted to TypeORM).
 *
 * The decorator puts a get/set accessor on the class prototype. Assignment (by your code, or by
 * TypeORM while it hydrates a row) stores the raw key and does no I/O; reading always returns a
 * FieldFile bound to the entity, built once per key and cached. The raw value stays `undefined` until
 * something assigns it, which is how a never-set or unselected property leaves its column untouched
 * on save: the subscriber makes TypeORM read the raw value, not the FieldFile.
 *
 * On the first assignment the same accessor is also defined on the instance, enumerable, so that
 * `JSON.stringify(entity)`, spreads and `Object.keys(entity)` see loaded file fields (prototype
 * accessors are not own properties). That `Object.defineProperty` is most of what loading a row costs
 * the library (about 0.1 µs per field; docs/benchmarks.md), and the price of spreads working.
 * TypeORM's hydration skips the setter and calls `FileAccessor.assign` directly (patchFileColumns.ts).
 * The raw key and the cached FieldFile live in the entity's hidden state (fileFieldState.ts). Class
 * fields compiled with `useDefineForClassFields: true` would define an own data property in the
 * constructor and hide all of this; `assertNotShadowed` says how to fix the tsconfig.
 */

/** One file property of one class: what its accessor does, callable without going through it. */
export interface FileAccessor {
  readonly field: FileFieldDefinition;
  /**
   * Stores a raw key (no I/O), forgetting the cached FieldFile if the key changed. `loadedBy` is the
   * DataSource that read the key (TypeORM hydrating a row, patchFileColumns.ts): `entity.file.save()`
   * then persists through it, and a class field hiding the accessor is reported.
   */
  assign(entity: object, raw: string | null | undefined, loadedBy?: DataSource): void;
  /**
   * A NULL loaded over a never-set field: binds `entity` to `loadedBy` and makes the property own and
   * enumerable (so JSON sees it), leaving it unset.
   */
  touch(entity: object, loadedBy: DataSource): void;
}

const byGetter = new WeakMap<Function, FileAccessor>();

export function installFileAccessor(prototype: object, field: FileFieldDefinition): void {
  const { propertyName } = field;
  const keys: SlotKeys = slotKeys(propertyName);
  const describe = () => `${field.target.name}.${propertyName}`;
  /**
   * A key your code assigns, checked as `assign()` checks it: a valid relative key (validateKey.ts)
   * that fits the column. Loaded keys do not come this way (patchFileColumns.ts).
   */
  const checkedKey = (key: string): string => {
    if (key === "") return key;
    const storage = typeof field.storage === "string" ? field.storage : null;
    validateKey(key, storage);
    if (keyLength(key) > field.maxLength) {
      throw new InvalidKeyError(
        `${describe()} holds at most ${field.maxLength} characters, and ${JSON.stringify(key)} is longer. ` +
          "Raise the field's maxLength, or save the file under a shorter name.",
        { key, storage },
      );
    }
    return key;
  };
  /**
   * A FieldFile of another storage (a private field's file assigned to a public one, say) would leave
   * this field pointing at a key that storage does not have. Storages that cannot be resolved yet are
   * not compared.
   */
  const assertSameStorage = (file: FieldFile) => {
    if (file.name === null) return;
    const from = resolvedOrNull(() => file.storage);
    const to = resolvedOrNull(() => resolveStorage(field.storage));
    if (from === null || to === null || from === to) return;
    throw new InvalidKeyError(
      `${describe()} keeps its files in ${storageLabel(to)}, but the FieldFile assigned to it is in ` +
        `${storageLabel(from)}, so its key would point at nothing there. Copy the file instead ` +
        `(await entity.${propertyName}.save(name, await file.open())), or assign the key string if both ` +
        "storages hold the same objects.",
      { key: file.name, storage: to.name },
    );
  };
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
      if (value instanceof FieldFile) assertSameStorage(value);
      const raw = typeof value === "string" ? value : toRaw(value, describe);
      accessor.assign(this, typeof raw === "string" ? checkedKey(raw) : raw);
    },
  };
  const accessor: FileAccessor = {
    field,
    assign(entity, raw, loadedBy) {
      const state = stateOf(entity);
      if (loadedBy) {
        state.dataSource = loadedBy;
        ownOrExplain(entity);
      } else {
        if (!Object.hasOwn(entity, propertyName)) Object.defineProperty(entity, propertyName, descriptor);
        // your code's assignment (not a load): the next save may replace or clear the row's file
        if (state[keys.raw] !== raw) state[keys.changed] = true;
        // an upload of another field, pointed at from here, is no longer that field's to abandon
        if (raw) noteAssigned(entity, propertyName, raw);
      }
      const file = state[keys.file] as FieldFile | null | undefined;
      if (file && (state[keys.raw] !== raw || file.name !== (raw === "" ? null : (raw ?? null))))
        state[keys.file] = null;
      state[keys.raw] = raw;
    },
    touch(entity, loadedBy) {
      stateOf(entity).dataSource = loadedBy;
      ownOrExplain(entity);
    },
  };
  /** Defines the own accessor, unless the property is own already; a class field there is a config error. */
  const ownOrExplain = (entity: object) => {
    if (!Object.hasOwn(entity, propertyName)) Object.defineProperty(entity, propertyName, descriptor);
    else assertNotShadowed(entity, field);
  };
  byGetter.set(descriptor.get as Function, accessor);
  Object.defineProperty(prototype, propertyName, descriptor);
}

function resolvedOrNull(resolve: () => Storage): Storage | null {
  try {
    return resolve();
  } catch {
    return null;
  }
}

const storageLabel = (storage: Storage) =>
  storage.name ? `storage "${storage.name}"` : `an unnamed ${storage.driver.kind} storage`;

/**
 * The file accessor `entity` reads `propertyName` through: its own, or the nearest on its prototype
 * chain (a subclass may redeclare the field). `undefined` for a plain object, or when a data property
 * hides the accessor.
 */
export function findFileAccessor(entity: object, propertyName: string): FileAccessor | undefined {
  for (let o: object | null = entity; o !== null; o = Object.getPrototypeOf(o)) {
    const descriptor = Object.getOwnPropertyDescriptor(o, propertyName);
    if (descriptor) return descriptor.get ? byGetter.get(descriptor.get) : undefined;
  }
  return undefined;
}

/**
 * Throws when `entity` has an own data property where the file accessor should be: a class field
 * compiled with `useDefineForClassFields: true`, which hides the accessor from every assignment.
 */
export function assertNotShadowed(entity: object, field: FileFieldDefinition): void {
  if (!Object.hasOwn(entity, field.propertyName)) return;
  const own = Object.getOwnPropertyDescriptor(entity, field.propertyName);
  if (own && "value" in own) {
    throw new StorageConfigError(
      `${field.target.name}.${field.propertyName} is a plain class field, so it hides the file accessor ` +
        '(TypeScript\'s "useDefineForClassFields" is on, the default for targets >= ES2022). Set ' +
        '"useDefineForClassFields": false in tsconfig.json (swc: jsc.transform.useDefineForClassFields), ' +
        `or declare the property with \`declare ${field.propertyName}: FieldFile;\`.`,
    );
  }
}

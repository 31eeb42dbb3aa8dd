import type { DataSource } from "typeorm";

/*
 * `repository.create(values)`, `merge(entity, values)` and `preload(values)` copy values into an entity
 * through the same `ColumnMetadata.setEntityValue` that hydrates a loaded row, so patchFileColumns.ts
 * cannot tell them from a load by the call itself. Yet they are your assignments: a key merged into a
 * loaded row replaces its file (which must then be deleted), a null clears it, and a key from a
 * request body must be checked as the property setter checks it.
 *
 * All three go through `PlainObjectToNewEntityTransformer.transform`, which is synchronous: while it
 * runs, `isCopyingValues()` is true, and no row can be hydrated in between. Loading rows goes through
 * `RawSqlResultsToEntityTransformer` instead and never sets the flag, so a loaded row pays one boolean
 * read per file column. The transformer's prototype is taken from the DataSource's own EntityManager
 * (every manager, a transaction's too, holds an instance of that class), not from a deep import:
 * that patches whichever copy of TypeORM the DataSource runs on, and survives the module moving.
 */

let copying = false;

/** True while TypeORM copies values from a plain object (create, merge, preload) into an entity. */
export function isCopyingValues(): boolean {
  return copying;
}

const patched = new WeakSet<object>();

/**
 * Wraps, once per copy of TypeORM, the `transform` of the class `dataSource`'s EntityManager copies
 * plain objects with, so `isCopyingValues()` is true while it runs. Does nothing if TypeORM no longer
 * has it (loads and copies are then told apart as before: every copied value counts as loaded).
 */
export function watchValueCopies(dataSource: DataSource): void {
  const transformer = (dataSource.manager as unknown as { plainObjectToEntityTransformer?: object })
    .plainObjectToEntityTransformer;
  const prototype = transformer && (Object.getPrototypeOf(transformer) as { transform?: Function });
  if (!prototype || patched.has(prototype) || typeof prototype.transform !== "function") return;
  patched.add(prototype);
  const transform = prototype.transform;
  prototype.transform = function (this: unknown, ...args: unknown[]) {
    const outer = copying;
    copying = true;
    try {
      return transform.apply(this, args);
    } finally {
      copying = outer;
    }
  };
}

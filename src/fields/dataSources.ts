import { DataSource, type EntityManager } from "typeorm";
import { StorageConfigError } from "../errors/StorageConfigError";
import { boundDataSource, setBoundDataSource } from "./fileFieldState";
import { patchFileColumns } from "./patchFileColumns";

const live = new Set<DataSource>();
const PATCHED = Symbol.for("typeorm-storages:datasource-tracking");

/*
 * TypeORM keeps no list of DataSources and gives a subscriber no reference to its own DataSource,
 * yet `await new Doc().file.save(...)` must find the one DataSource that can insert a Doc, as
 * Django's `instance.save()` does. So `initialize()`/`destroy()` are wrapped once, when the
 * subscriber module loads (which is before any DataSource that lists it can initialize), to keep a
 * set of live DataSources. Nothing else about them changes.
 */
export function trackDataSources(): void {
  const proto = DataSource.prototype as unknown as Record<PropertyKey, any>;
  if (proto[PATCHED]) return;
  const initialize = proto.initialize;
  const destroy = proto.destroy;
  proto.initialize = async function (this: DataSource, ...args: unknown[]) {
    const result = await initialize.apply(this, args);
    live.add(this);
    patchFileColumns(this);
    return result;
  };
  proto.destroy = async function (this: DataSource, ...args: unknown[]) {
    live.delete(this);
    return destroy.apply(this, args);
  };
  proto[PATCHED] = true;
}

/** The DataSources initialized now, as far as this library saw them start. */
export function liveDataSources(): DataSource[] {
  return [...live].filter((ds) => ds.isInitialized);
}

/**
 * Remembers which DataSource loaded or saved `entity` (the subscriber calls this), and counts the
 * DataSource as live: it may have initialized before this module loaded, or run on another copy of
 * TypeORM, whose `destroy()` is not wrapped. So a DataSource met here for the first time makes those
 * destroyed since leave the set, and one already destroyed (a save that returned as `destroy()` ran)
 * never enters it: per-tenant DataSources would otherwise stay in memory for the life of the process.
 */
export function bindEntity(entity: object, dataSource: DataSource): void {
  setBoundDataSource(entity, dataSource);
  if (live.has(dataSource) || !dataSource.isInitialized) return;
  for (const known of live) if (!known.isInitialized) live.delete(known);
  live.add(dataSource);
}

/** True when `dataSource` has a `FileFieldSubscriber` registered. */
export function hasFileFieldSubscriber(dataSource: DataSource): boolean {
  return dataSource.subscribers.some(
    (s) => (s as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === "FileFieldSubscriber",
  );
}

/**
 * The manager `FieldFile.save()/delete()` persist through: the one given, else the DataSource that
 * loaded or saved the entity, else the one initialized DataSource that knows the entity's class and
 * has a `FileFieldSubscriber`. Throws `StorageConfigError` naming the fix when that is not one.
 */
export function managerFor(entity: object, given: EntityManager | undefined): EntityManager {
  const manager = chooseManager(entity, given);
  if (!manager.connection.hasMetadata(entity.constructor))
    throw notAnEntity(entity, whereEmbedded(entity.constructor, [manager.connection]));
  return manager;
}

function chooseManager(entity: object, given: EntityManager | undefined): EntityManager {
  const className = entity.constructor?.name ?? "entity";
  const missingSubscriber = (ds: DataSource) =>
    new StorageConfigError(
      `The DataSource that persists ${className} has no FileFieldSubscriber, so uploads would never be ` +
        "cleaned up on rollback and replaced files never deleted. Add it: " +
        "new DataSource({ ..., subscribers: [FileFieldSubscriber] }).",
      { cause: { dataSource: ds.options.type } },
    );
  if (given) {
    if (!hasFileFieldSubscriber(given.connection)) throw missingSubscriber(given.connection);
    return given;
  }
  const bound = boundDataSource(entity);
  if (bound?.isInitialized) return bound.manager;
  const candidates = [...live].filter((ds) => ds.isInitialized && ds.hasMetadata(entity.constructor));
  const withSubscriber = candidates.filter(hasFileFieldSubscriber);
  if (withSubscriber.length === 1) return withSubscriber[0].manager;
  if (withSubscriber.length === 0 && candidates.length > 0) throw missingSubscriber(candidates[0]);
  const owner = withSubscriber.length === 0 ? whereEmbedded(entity.constructor, live) : undefined;
  if (owner) throw notAnEntity(entity, owner);
  throw new StorageConfigError(
    withSubscriber.length === 0
      ? `No initialized DataSource knows ${className}: initialize it first (with FileFieldSubscriber in its ` +
          "subscribers), or pass { manager } to save()/delete()."
      : `${withSubscriber.length} initialized DataSources know ${className}: pass { manager } to save()/delete() ` +
          "to say which one persists it.",
  );
}

/**
 * The error for a FieldFile whose object is not an entity of the DataSource that would persist it:
 * usually an embedded object (`@Column(() => Media)`, in `owner`), which TypeORM saves only as part of
 * the entity that holds it.
 */
function notAnEntity(object: object, owner: string | undefined): StorageConfigError {
  const className = object.constructor?.name ?? "object";
  return new StorageConfigError(
    owner
      ? `${className} is embedded (in ${owner}), and save()/delete() on its file fields cannot persist it on ` +
          "its own: pass { save: false }, then save the entity that holds it."
      : `${className} is not an entity of the DataSource that would persist it: pass { save: false } and ` +
          "save the row yourself, or pass the { manager } of a DataSource that knows it.",
  );
}

/** `Owner.property` where some initialized DataSource embeds `cls` (`@Column(() => cls)`), if any. */
function whereEmbedded(cls: Function | undefined, dataSources: Iterable<DataSource>): string | undefined {
  for (const ds of dataSources) {
    if (!ds.isInitialized) continue;
    for (const metadata of ds.entityMetadatas) {
      const embedded = metadata.allEmbeddeds.find((e) => e.type === cls);
      if (embedded) return `${metadata.name}.${embedded.propertyPath}`;
    }
  }
  return undefined;
}

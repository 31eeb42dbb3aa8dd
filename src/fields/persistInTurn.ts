import type { EntityManager } from "typeorm";

/** The last persist queued for each entity, per manager. */
const turns = new WeakMap<object, WeakMap<EntityManager, Promise<unknown>>>();

/**
 * Runs `persist` (which saves `entity` with `manager`) once the persists of `entity` queued before it
 * on the same manager have settled. Two `manager.save(entity)` at once on a new entity both INSERT it
 * (TypeORM sets the id only when the first returns): `Promise.all([doc.a.save(…), doc.b.save(…)])`
 * made two rows. Queued one after the other, the second finds the id and UPDATEs. Keyed by manager
 * too, so a save inside a transaction never waits on one outside it that may wait on the
 * transaction's locks.
 */
export function persistInTurn<T>(entity: object, manager: EntityManager, persist: () => Promise<T>): Promise<T> {
  const queue = turns.get(entity) ?? new WeakMap<EntityManager, Promise<unknown>>();
  turns.set(entity, queue);
  const before = queue.get(manager) ?? Promise.resolve();
  const run = before.then(persist, persist);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  queue.set(manager, settled);
  void settled.then(() => {
    if (queue.get(manager) === settled) queue.delete(manager);
  });
  return run;
}

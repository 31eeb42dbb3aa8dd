import type { QueryRunner } from "typeorm";

/*
 * What the subscriber keeps per connection (a transaction's frames, rows loaded before a removal, the
 * chain of key loads) belongs to the query runner itself. Not to `queryRunner.data`: TypeORM swaps
 * that for the object given as `save(entity, { data })` / `remove(entity, { data })` while the save
 * runs, so work a save queued there was lost to the transaction it ran in, and concurrent saves given
 * one data object (a request's context) shared their transactions' frames, so that one's rollback
 * deleted the uploads of another that then committed.
 *
 * The map lives on `globalThis` under a registered symbol, so two copies of this library loaded in
 * one process see the same state, as they did through `data`.
 */
const SLOTS = Symbol.for("typeorm-storages:query-runner-slots");

type Slots = WeakMap<QueryRunner, Map<symbol, unknown>>;

const global = globalThis as { [SLOTS]?: Slots };
global[SLOTS] ??= new WeakMap();
const slots: Slots = global[SLOTS];

function valuesOf(queryRunner: QueryRunner): Map<symbol, unknown> {
  let values = slots.get(queryRunner);
  if (!values) {
    values = new Map();
    slots.set(queryRunner, values);
  }
  return values;
}

/** The value kept under `slot` for `queryRunner`, or undefined. */
export function findSlot<T>(queryRunner: QueryRunner, slot: symbol): T | undefined {
  return slots.get(queryRunner)?.get(slot) as T | undefined;
}

/** The value kept under `slot` for `queryRunner`, made by `create` on first use. */
export function slotOf<T>(queryRunner: QueryRunner, slot: symbol, create: () => T): T {
  const values = valuesOf(queryRunner);
  if (!values.has(slot)) values.set(slot, create());
  return values.get(slot) as T;
}

/** Replaces the value kept under `slot` for `queryRunner`. */
export function setSlot<T>(queryRunner: QueryRunner, slot: symbol, value: T): void {
  valuesOf(queryRunner).set(slot, value);
}

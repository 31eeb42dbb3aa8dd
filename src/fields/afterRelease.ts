import type { QueryRunner } from "typeorm";
import { findSlot, setSlot } from "./queryRunnerSlots";

const AFTER_RELEASE = Symbol.for("typeorm-storages:after-release");

/**
 * Runs `work` once `queryRunner` has been released, and makes its `release()` resolve only after
 * `work` has settled: TypeORM awaits `release()` before a save, a removal or `transaction()` returns,
 * so the caller still sees the work done. `release` is wrapped on the instance the first time; work
 * must not reject (cleanups report their failures instead of throwing).
 */
export function afterRelease(queryRunner: QueryRunner, work: () => Promise<void>): void {
  let queued = findSlot<(() => Promise<void>)[]>(queryRunner, AFTER_RELEASE);
  if (!queued) {
    const works: (() => Promise<void>)[] = [];
    queued = works;
    setSlot(queryRunner, AFTER_RELEASE, works);
    const release = queryRunner.release;
    queryRunner.release = async function (this: QueryRunner) {
      try {
        return await release.call(this);
      } finally {
        // SQLite drivers keep one query runner for the DataSource: it is released again and again
        await Promise.all(works.splice(0).map((run) => run()));
      }
    };
  }
  queued.push(work);
}

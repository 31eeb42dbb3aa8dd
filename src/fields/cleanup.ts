import type { QueryRunner } from "typeorm";
import type { Storage } from "../storage/Storage";
import type { CleanupReason } from "../storage/StorageRegistry";
import { storages } from "../storage/storages";
import { afterRelease } from "./afterRelease";
import { isKeyHeld, type KeyLookup, otherDataSourcesUsing } from "./isKeyHeld";
import { clearPending, isStillAbandoned, pendingToken } from "./pendingUploads";

/** One object to delete: where, which key, and why (for the error hook). */
export interface CleanupTask {
  storage: Storage;
  key: string;
  reason: CleanupReason;
  /** An abandoned upload of an entity whose row was removed: its field may still hold the key. */
  rowRemoved?: boolean;
  /** A file a row may hold after all (an upload whose save failed inside a transaction that committed). */
  unlessHeld?: boolean;
}

const ATTEMPTS = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Deletes each object, retrying twice with back-off; a failure that remains goes to
 * `storages.onCleanupError` and is never thrown, so a committed save is never reported as failed. An
 * abandoned upload is checked again first: a row committed with it, or a field took it, since.
 *
 * A replaced or removed file that a row still names (a key shared between rows) is kept: one query per
 * file column on its storage, in every initialized DataSource, before the delete.
 *
 * A failed delete may have deleted the object after all (its answer lost to a timeout or a reset
 * connection), and the name, free again, be handed to another upload before the retry: deleting it
 * again would delete that file. So before each retry the name is checked: a new upload of it pending
 * in this process, or a row of an initialized DataSource holding it, ends the task without deleting.
 * `queryRunner`, the connection that committed the rows, answers for its DataSource (isKeyHeld.ts).
 * A check that fails ends it too, reported as the delete's failure. An upload of another process whose
 * row is not committed yet is not seen.
 *
 * Another DataSource is asked on a connection of its own pool, and `queryRunner` is still held then
 * (TypeORM releases it after `afterTransactionCommit`). Two DataSources with a pool of one each,
 * committing at once, each waited for the connection the other held, and neither ever returned. So
 * while `queryRunner` is held only its own DataSource is asked; the lookups in the others, and the
 * delete, run once it is released, which TypeORM awaits before the save, removal or `transaction()`
 * returns (afterRelease.ts). With a query runner of your own, they run when you release it.
 */
export async function runCleanup(tasks: readonly CleanupTask[], queryRunner?: QueryRunner): Promise<void> {
  await Promise.all(
    tasks.map(async (task) => {
      if (task.reason === "abandoned" && !isStillAbandoned(task.storage, task.key, task.rowRemoved ?? false)) return;
      // A file a row let go of may still be another row's: its key copied there (`b.file = a.file`),
      // or written by other code. Only a file no row names is deleted; a lookup that fails keeps it.
      if (task.reason !== "replaced" && task.reason !== "removed" && !task.unlessHeld)
        return deleteObject(task, queryRunner);
      const holding = queryRunner && !queryRunner.isReleased ? queryRunner : undefined;
      const elsewhere = holding ? otherDataSourcesUsing(holding.connection, task.storage) : [];
      if (!holding || elsewhere.length === 0) {
        if (!(await isKept(task, { queryRunner }))) await deleteObject(task, queryRunner);
        return;
      }
      if (await isKept(task, { queryRunner: holding, dataSources: [holding.connection] })) return;
      afterRelease(holding, async () => {
        const live = elsewhere.filter((dataSource) => dataSource.isInitialized);
        if (!(await isKept(task, { dataSources: live }))) await deleteObject(task, holding);
      });
    }),
  );
}

/** Whether a row named in `lookup` holds the task's key; a lookup that fails is reported and keeps it. */
function isKept(task: CleanupTask, lookup: KeyLookup): Promise<boolean> {
  return isKeyHeld(task.storage, task.key, lookup).catch((error: unknown) => {
    storages.reportCleanupError(error, { storage: task.storage, key: task.key, reason: task.reason });
    return true;
  });
}

/** Deletes the task's object, retrying while its name is not taken again (see `runCleanup`). */
async function deleteObject(task: CleanupTask, queryRunner: QueryRunner | undefined): Promise<void> {
  const own = pendingToken(task.storage, task.key);
  for (let attempt = 1; ; attempt++) {
    try {
      await task.storage.delete(task.key);
      clearPending(task.storage, task.key);
      return;
    } catch (error) {
      const failure = { storage: task.storage, key: task.key, reason: task.reason };
      if (attempt >= ATTEMPTS) {
        storages.reportCleanupError(error, failure);
        return;
      }
      await sleep(50 * 4 ** (attempt - 1));
      const taken = await takenAgain(task, own, queryRunner).catch(() => null);
      if (taken === null) storages.reportCleanupError(error, failure);
      if (taken !== false) return;
    }
  }
}

/** Whether the task's name went to another upload or row since `own` (its pending entry, if any). */
async function takenAgain(task: CleanupTask, own: object | undefined, queryRunner?: QueryRunner): Promise<boolean> {
  const pending = pendingToken(task.storage, task.key);
  if (pending !== undefined && pending !== own) return true;
  return isKeyHeld(task.storage, task.key, { queryRunner });
}

import type { Storage } from "../storage/Storage";
import type { CleanupReason } from "../storage/StorageRegistry";
import { storages } from "../storage/storages";
import { clearPending, isStillAbandoned } from "./pendingUploads";

/** One object to delete: where, which key, and why (for the error hook). */
export interface CleanupTask {
  storage: Storage;
  key: string;
  reason: CleanupReason;
  /** An abandoned upload of an entity whose row was removed: its field may still hold the key. */
  rowRemoved?: boolean;
}

const ATTEMPTS = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Deletes each object, retrying twice with back-off; a failure that remains goes to
 * `storages.onCleanupError` and is never thrown, so a committed save is never reported as failed. An
 * abandoned upload is checked again first: a row committed with it, or a field took it, since.
 */
export async function runCleanup(tasks: readonly CleanupTask[]): Promise<void> {
  await Promise.all(
    tasks.map(async (task) => {
      if (task.reason === "abandoned" && !isStillAbandoned(task.storage, task.key, task.rowRemoved ?? false)) return;
      for (let attempt = 1; ; attempt++) {
        try {
          await task.storage.delete(task.key);
          clearPending(task.storage, task.key);
          return;
        } catch (error) {
          if (attempt >= ATTEMPTS) {
            storages.reportCleanupError(error, { storage: task.storage, key: task.key, reason: task.reason });
            return;
          }
          await sleep(50 * 4 ** (attempt - 1));
        }
      }
    }),
  );
}

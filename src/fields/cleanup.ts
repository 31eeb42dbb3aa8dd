import type { Storage } from "../storage/Storage";
import { storages } from "../storage/storages";
import { clearPending } from "./pendingUploads";

/** One object to delete: where, which key, and why (for the error hook). */
export interface CleanupTask {
  storage: Storage;
  key: string;
  reason: "replaced" | "removed" | "rolled-back";
}

const ATTEMPTS = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Deletes each object, retrying twice with back-off; a failure that remains goes to
 * `storages.onCleanupError` and is never thrown, so a committed save is never reported as failed.
 */
export async function runCleanup(tasks: readonly CleanupTask[]): Promise<void> {
  await Promise.all(
    tasks.map(async (task) => {
      for (let attempt = 1; ; attempt++) {
        try {
          await task.storage.delete(task.key);
          clearPending(task.storage, task.key);
          return;
        } catch (error) {
          if (attempt >= ATTEMPTS) {
            storages.reportCleanupError(error, task);
            return;
          }
          await sleep(50 * 4 ** (attempt - 1));
        }
      }
    }),
  );
}

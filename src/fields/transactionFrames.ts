import type { QueryRunner } from "typeorm";
import type { Storage } from "../storage/Storage";
import { type CleanupTask, runCleanup } from "./cleanup";
import { readRaw, writeRaw } from "./fileFieldState";
import {
  clearPending,
  isPending,
  isShared,
  keepsOnRollback,
  overwroteExisting,
  pendingHolder,
  undoPending,
} from "./pendingUploads";
import { slotOf } from "./queryRunnerSlots";

/*
 * What FileFieldSubscriber does at transaction boundaries. Each transaction level (the transaction, and
 * each savepoint inside it) gets a frame on its query runner: the uploads its saves wrote (deleted if it
 * rolls back), the files its rows let go of (deleted once the outermost level commits), and the fields
 * to point back if it rolls back. A released savepoint hands its frame to the enclosing level.
 */

/** A file field a save changed in its row: pointed back at what the row held if the save rolls back. */
export interface FieldRestore {
  holder: object;
  propertyName: string;
  /** What the save wrote: a field that no longer holds it was changed again since, and stays. */
  written: string | null;
  previous: string | null | undefined;
}

/**
 * What one transaction level did: uploads to delete on rollback, replaced files to delete on commit,
 * fields to point back on rollback.
 */
interface Frame {
  uploads: CleanupTask[];
  deletions: CleanupTask[];
  restores: FieldRestore[];
  /**
   * The objects holding the pending uploads of its uploads and deletions, kept alive until the level
   * ends: a pending upload whose holder is collected is forgotten (pendingUploads.ts), and then neither
   * deleted by a rollback nor, abandoned, by the commit.
   */
  holders: object[];
}

/** What one save or removal queues in the current level. */
export type FrameWork = Omit<Frame, "holders">;

const newFrame = (): Frame => ({ uploads: [], deletions: [], restores: [], holders: [] });

const FRAMES = Symbol.for("typeorm-storages:frames");

function framesOf(queryRunner: QueryRunner): Frame[] {
  return slotOf(queryRunner, FRAMES, (): Frame[] => []);
}

/** A key in one storage. */
export interface StoredKey {
  storage: Storage;
  key: string;
}

export const includesKey = (keys: readonly StoredKey[], storage: Storage, key: string) =>
  keys.some((held) => held.storage === storage && held.key === key);

/** Starts a transaction level (a transaction, or a savepoint inside one). */
export function openFrame(queryRunner: QueryRunner): void {
  framesOf(queryRunner).push(newFrame());
}

/**
 * Queues what one save or removal did in the current level. `taken` are the keys it wrote into its row:
 * a deletion queued earlier in the transaction because a row let go of one (replaced, then pointed at
 * again) would delete a file the row holds at commit. An abandoned upload is checked again at commit
 * (isStillAbandoned), so only rows' keys are dropped.
 */
export function queueInFrame(queryRunner: QueryRunner, work: FrameWork, taken: readonly StoredKey[]): void {
  const frames = framesOf(queryRunner);
  if (taken.length > 0)
    for (const frame of frames)
      frame.deletions = frame.deletions.filter(
        (task) => task.reason === "abandoned" || !includesKey(taken, task.storage, task.key),
      );
  if (frames.length === 0) frames.push(newFrame());
  const top = frames[frames.length - 1];
  top.uploads.push(...work.uploads);
  top.deletions.push(...work.deletions);
  top.restores.push(...work.restores);
  for (const task of [...work.uploads, ...work.deletions]) {
    const holder = pendingHolder(task.storage, task.key);
    if (holder !== undefined) top.holders.push(holder);
  }
}

/**
 * A save of a new upload failed inside the transaction (a serialization failure, a deadlock, a
 * constraint): its row may or may not hold the key, and the transaction may still roll back (the
 * usual end, and a caller's retry) or commit (MySQL goes on after a failed statement). Queued so that
 * a rollback deletes it as any upload of the transaction (unless kept on purpose), and a commit
 * deletes it unless a row holds it then. Before, the upload was queued by no level, and every failed
 * attempt of a retried transaction left its file behind.
 */
export function queueFailedUpload(queryRunner: QueryRunner, storage: Storage, key: string, keep: boolean): void {
  const frames = framesOf(queryRunner);
  if (frames.some((frame) => includesKey(frame.uploads, storage, key))) return;
  const upload: CleanupTask = { storage, key, reason: "rolled-back" };
  const deletions: CleanupTask[] = keep ? [] : [{ ...upload, unlessHeld: true }];
  queueInFrame(queryRunner, { uploads: [upload], deletions, restores: [] }, []);
}

/**
 * A level committed: a released savepoint's work goes to the enclosing level; the outermost commit
 * makes every upload permanent and deletes what the rows let go of.
 */
export async function commitFrame(queryRunner: QueryRunner): Promise<void> {
  const frames = framesOf(queryRunner);
  if (queryRunner.isTransactionActive) {
    // a savepoint was released: its work now belongs to the enclosing level
    if (frames.length >= 2) {
      const top = frames.pop() as Frame;
      frames[frames.length - 1].uploads.push(...top.uploads);
      frames[frames.length - 1].deletions.push(...top.deletions);
      frames[frames.length - 1].restores.push(...top.restores);
      frames[frames.length - 1].holders.push(...top.holders);
    }
    return;
  }
  const done = frames.splice(0);
  for (const frame of done) for (const upload of frame.uploads) clearPending(upload.storage, upload.key);
  await runCleanup(
    done.flatMap((frame) => frame.deletions),
    queryRunner,
  );
}

/**
 * A level rolled back: its fields point back at what the rows hold, and its uploads are deleted, except
 * those still wanted (below) or kept on purpose (direct uploads, overwriting storages).
 */
export async function rollbackFrame(queryRunner: QueryRunner): Promise<void> {
  const frames = framesOf(queryRunner);
  const undone = queryRunner.isTransactionActive ? frames.splice(-1) : frames.splice(0);
  // An upload a row of an enclosing level holds too (the savepoint wrote a copy of it), or that
  // another field was pointed at, is still wanted: left pending, neither pointed away from nor deleted.
  const enclosing = frames.flatMap((frame) => frame.uploads);
  const uploads = undone
    .flatMap((frame) => frame.uploads)
    .filter(
      (u) => isPending(u.storage, u.key) && !isShared(u.storage, u.key) && !includesKey(enclosing, u.storage, u.key),
    );
  // Latest first, so a field changed twice in the transaction ends on what it held before it: the row
  // holds that again, and saving the entity once more (a retry) must neither clear nor replace it.
  const restores = undone.flatMap((frame) => frame.restores);
  for (let i = restores.length - 1; i >= 0; i--) {
    const { holder, propertyName, written, previous } = restores[i];
    if (readRaw(holder, propertyName) === written) writeRaw(holder, propertyName, previous);
  }
  for (let i = uploads.length - 1; i >= 0; i--) undoPending(uploads[i].storage, uploads[i].key);
  // a direct upload stays for its ticket to be attached again (or to be swept); one written over an
  // existing name (fileOverwrite) may be the file of a committed row
  const reopened = uploads.filter((u) => keepsOnRollback(u.storage, u.key));
  const kept = uploads.filter((u) => reopened.includes(u) || overwroteExisting(u.storage, u.key));
  for (const upload of kept) clearPending(upload.storage, upload.key);
  // pending again, for the lifecycle rule on the pending tag (best effort: `orphans` sweeps it anyway)
  await Promise.all(reopened.map((u) => u.storage.reopenUpload(u.key).catch(() => undefined)));
  await runCleanup(
    uploads.filter((u) => !kept.includes(u)),
    queryRunner,
  );
}

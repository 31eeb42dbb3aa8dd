import fs from "node:fs";
import path from "node:path";

/**
 * The SQLite file sql.js keeps in memory and the app saves after every write (TypeORM's
 * `autoSaveCallback`). TypeORM's own `autoSave` truncates the file and writes it in place, unawaited
 * by anything on shutdown and unordered between two commits: a crash, a `kill -9` or a Ctrl-C during
 * that write left a truncated or empty file, and sql.js opens an empty file as a new database, so
 * the app started with no rows while every uploaded file stayed on disk. Here each save goes to a
 * temporary file next to it, is flushed to disk and renamed over the old one (a rename is atomic),
 * so the file is always one complete database; saves run one at a time, the newest last.
 */
export class DatabaseFile {
  /** The newest bytes not written yet, and the callers waiting for them (or a newer version) to be on disk. */
  #pending: { bytes: Uint8Array; done: Promise<void>; settle: (error?: unknown) => void } | null = null;
  #writing: Promise<void> = Promise.resolve();

  constructor(readonly location: string) {}

  /** Removes the temporary copies a process killed while saving left next to the file. */
  removeLeftovers(): void {
    const prefix = `.${path.basename(this.location)}.`;
    for (const name of fs.readdirSync(path.dirname(this.location))) {
      if (name.startsWith(prefix) && name.endsWith(".tmp"))
        fs.rmSync(path.join(path.dirname(this.location), name), { force: true });
    }
  }

  /**
   * Resolves once `bytes`, or a newer version saved after them, replaced the file; rejects with the
   * file system's error when that write failed (the previous file is left as it was).
   */
  save(bytes: Uint8Array): Promise<void> {
    if (this.#pending) {
      // a newer version makes the one still waiting pointless: write only the newest
      this.#pending.bytes = bytes;
      return this.#pending.done;
    }
    let settle!: (error?: unknown) => void;
    const done = new Promise<void>((resolve, reject) => {
      settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    const pending = { bytes, done, settle };
    this.#pending = pending;
    this.#writing = this.#writing.then(async () => {
      this.#pending = null;
      try {
        await this.#replace(pending.bytes);
        pending.settle();
      } catch (error) {
        pending.settle(error);
      }
    });
    return done;
  }

  /** Resolves once every save started so far has finished (shutdown waits for it). */
  async idle(): Promise<void> {
    while (this.#pending) await this.#pending.done.catch(() => undefined);
    await this.#writing;
  }

  async #replace(bytes: Uint8Array): Promise<void> {
    const temporary = path.join(path.dirname(this.location), `.${path.basename(this.location)}.${process.pid}.tmp`);
    try {
      const handle = await fs.promises.open(temporary, "w");
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.promises.rename(temporary, this.location);
    } catch (error) {
      await fs.promises.rm(temporary, { force: true });
      throw error;
    }
    // the rename itself survives a power cut only once the directory is flushed (not possible on Windows)
    const directory = await fs.promises.open(path.dirname(this.location), "r").catch(() => null);
    await directory
      ?.sync()
      .catch(() => undefined)
      .finally(() => directory.close());
  }
}

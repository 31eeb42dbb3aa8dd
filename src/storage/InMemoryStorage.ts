import { MemoryDriver } from "../drivers/memory/MemoryDriver";
import { Storage, type StorageOptions } from "./Storage";

/** Options of `InMemoryStorage`. */
export interface InMemoryStorageOptions extends StorageOptions {
  /** Prefix of every URL (default `/media/`). */
  baseUrl?: string;
}

/**
 * A storage that keeps files in process memory: for tests, and what `storages.fake(name)` swaps in.
 * Nothing serves its URLs; they are `baseUrl` plus the percent-encoded key.
 */
export class InMemoryStorage extends Storage {
  readonly #memory: MemoryDriver;

  constructor(options: InMemoryStorageOptions = {}) {
    const driver = new MemoryDriver({ baseUrl: options.baseUrl });
    super(driver, options);
    this.#memory = driver;
  }

  /** Forgets every stored file. */
  clear(): void {
    this.#memory.clear();
  }
}

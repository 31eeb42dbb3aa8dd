import { MemoryDriver } from "../drivers/memory/MemoryDriver";
import { Storage, type StorageOptions } from "./Storage";

/** Options of `InMemoryStorage`. */
export interface InMemoryStorageOptions extends StorageOptions {
  /** Prefix of every URL (default `/media/`). */
  baseUrl?: string;
}

/**
 * A storage that keeps files in process memory: for tests, and what `storages.fake(name)` swaps in.
 * Nothing serves its URLs; they are `baseUrl` plus the percent-encoded key. Direct uploads are signed
 * as elsewhere, and `put()` plays the browser's part.
 */
export class InMemoryStorage extends Storage {
  readonly #memory: MemoryDriver;

  constructor(options: InMemoryStorageOptions = {}) {
    const driver = new MemoryDriver({ baseUrl: options.baseUrl });
    super(driver, options);
    this.#memory = driver;
  }

  /**
   * Does what a browser's PUT of `body` to a direct-upload URL (`createUpload`) does on S3, for tests of
   * an upload flow, and resolves with the status S3 would answer: 200 (stored), 403 (an unknown,
   * moved or expired URL, or one of `upload.headers` missing or changed: S3 signs them all), 400
   * (another size than signed), 412 (the name is taken and the URL may not replace it).
   */
  async put(url: string, body: Buffer | Uint8Array | string, headers: Record<string, string> = {}): Promise<number> {
    return this.#memory.receiveUpload(url, typeof body === "string" ? Buffer.from(body) : Buffer.from(body), headers);
  }

  /** Forgets every stored file. */
  clear(): void {
    this.#memory.clear();
  }
}

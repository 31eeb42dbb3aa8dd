import { createSecretKey, type KeyObject, randomBytes } from "node:crypto";
import { StorageConfigError } from "../errors/StorageConfigError";
import { InMemoryStorage } from "./InMemoryStorage";
import { Storage } from "./Storage";

/**
 * Why the library deleted an object: its field was given another file (`replaced`), its row was removed
 * (`removed`), the transaction that uploaded it rolled back (`rolled-back`), or its field let go of it
 * before any row held it (`abandoned`: a second upload, or an assignment, over one made with
 * `save: false`).
 */
export type CleanupReason = "replaced" | "removed" | "rolled-back" | "abandoned";

/** What `onCleanupError` handlers receive beside the error. */
export interface CleanupFailure {
  storage: Storage;
  key: string;
  reason: CleanupReason;
}

/** Called when an object could not be deleted after commit or rollback (after retries). */
export type CleanupErrorHandler = (error: unknown, failure: CleanupFailure) => void;

const warnCleanupError: CleanupErrorHandler = (error, { storage, key, reason }) => {
  console.warn(
    `[typeorm-storages] could not delete ${reason} file ${JSON.stringify(key)} from storage "${storage.name}":`,
    error,
  );
};

/** A storage, or a factory that builds it on first use. */
export type StorageEntry = Storage | (() => Storage);

/** What `storages.configure()` takes: storage names mapped to storages or factories. */
export type StoragesConfig = Record<string, StorageEntry>;

/** Settings of `storages.configure()` beside the storages. */
export interface StorageRegistryOptions {
  /**
   * HMAC key of direct-upload tickets (`FieldFile.createUpload`), at least 32 bytes. Default: env
   * `STORAGES_SIGNING_SECRET`; outside production a per-process secret with a warning.
   */
  signingSecret?: string | Buffer;
}

/** The shortest signing secret accepted, in bytes (an HMAC-SHA256 key should be at least its output size). */
const MIN_SECRET_BYTES = 32;

/**
 * Storage names to storages, built lazily and cached (Django's `StorageHandler`, Rails' registry).
 * Decorators and `FieldFile`s look storages up here at each use, so `configure()` and `fake()` take
 * effect for entities declared before them.
 */
export class StorageRegistry {
  #config: StoragesConfig = {};
  #built = new Map<string, Storage>();
  #fakes = new Map<string, Storage>();
  #cleanupErrorHandler: CleanupErrorHandler = warnCleanupError;
  #generation = 0;
  /** From `configure()`; else the environment's, else one made for this process. */
  #signingSecret: KeyObject | null = null;
  #envSecret: { text: string; key: KeyObject } | null = null;
  #generatedSecret: KeyObject | null = null;

  /**
   * A number that changes whenever `configure()`, `fake()`, `restore()` or `close()` may change what a
   * name resolves to: what loading rows checks before it trusts a storage it found ready earlier.
   */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Replaces the whole configuration; storages built before are forgotten (not closed). Throws
   * `StorageConfigError` for a `signingSecret` shorter than 32 bytes.
   */
  configure(config: StoragesConfig, options: StorageRegistryOptions = {}): void {
    if (typeof config !== "object" || config === null) {
      throw new StorageConfigError("storages.configure() takes an object of { name: Storage | () => Storage }.");
    }
    this.#signingSecret =
      options.signingSecret === undefined ? null : secretKey(options.signingSecret, "signingSecret");
    this.#config = { ...config };
    this.#built.clear();
    this.#generation++;
  }

  /**
   * The key direct-upload tickets are signed with: `configure()`'s `signingSecret`, else env
   * `STORAGES_SIGNING_SECRET`, else (outside production) a per-process secret, with a warning: tickets
   * then fail across processes and restarts. Throws `StorageConfigError` in production without one.
   */
  signingKey(): KeyObject {
    if (this.#signingSecret !== null) return this.#signingSecret;
    const fromEnv = process.env.STORAGES_SIGNING_SECRET;
    if (fromEnv) {
      if (this.#envSecret?.text !== fromEnv)
        this.#envSecret = { text: fromEnv, key: secretKey(fromEnv, "STORAGES_SIGNING_SECRET") };
      return this.#envSecret.key;
    }
    if (process.env.NODE_ENV === "production") {
      throw new StorageConfigError(
        "Direct uploads need a signing secret for their tickets: set STORAGES_SIGNING_SECRET (openssl rand " +
          "-base64 48), or pass { signingSecret } to storages.configure().",
      );
    }
    if (this.#generatedSecret === null) {
      console.warn(
        "[typeorm-storages] STORAGES_SIGNING_SECRET is not set: direct-upload tickets are signed with a " +
          "per-process secret, so they fail on another process or after a restart. Set it outside development.",
      );
      // kept across configure() calls: tickets already handed out stay valid in this process
      this.#generatedSecret = createSecretKey(randomBytes(32));
    }
    return this.#generatedSecret;
  }

  /** The configured names, fakes included. */
  names(): string[] {
    return [...new Set([...Object.keys(this.#config), ...this.#fakes.keys()])];
  }

  /** True when `name` is configured or faked. */
  has(name: string): boolean {
    return this.#fakes.has(name) || Object.hasOwn(this.#config, name);
  }

  /** Returns the storage named `name`, building it on first use; throws `StorageConfigError` listing the names. */
  get(name: string): Storage {
    if (this.#fakes.size !== 0) {
      const fake = this.#fakes.get(name);
      if (fake) return fake;
    }
    const cached = this.#built.get(name);
    if (cached) return cached;
    if (!Object.hasOwn(this.#config, name)) {
      const known = this.names();
      throw new StorageConfigError(
        `No storage named "${name}" is configured. ` +
          (known.length
            ? `Configured storages: ${known.map((n) => `"${n}"`).join(", ")}.`
            : "No storages are configured: call storages.configure(storagesFromEnv()) at startup.") +
          (name === "private"
            ? ' @PrivateFileColumn needs a storage named "private"; it never falls back to a public one.'
            : ""),
        { storage: name },
      );
    }
    const entry = this.#config[name];
    let storage: Storage;
    try {
      storage = typeof entry === "function" ? entry() : entry;
    } catch (error) {
      throw new StorageConfigError(`Could not build storage "${name}": ${(error as Error).message}`, {
        storage: name,
        cause: error,
      });
    }
    // an async factory, or a factory module's default export forgotten, would fail later as a TypeError
    if (!(storage instanceof Storage)) {
      const what =
        typeof (storage as { then?: unknown } | null)?.then === "function"
          ? "a Promise (storage factories are synchronous: build the storage, and let ready() do async work)"
          : storage === null || typeof storage !== "object"
            ? String(storage)
            : `an object of class ${(storage as object).constructor?.name ?? "Object"}`;
      throw new StorageConfigError(
        `Storage "${name}" must be a Storage (S3Storage, FileSystemStorage, InMemoryStorage, ...), but its ` +
          `configuration gave ${what}.`,
        { storage: name },
      );
    }
    storage.name ??= name;
    this.#built.set(name, storage);
    return storage;
  }

  /**
   * Builds every configured storage and resolves credentials; makes no request to any object store.
   * Waits for all of them: one failure is thrown as it is, several as one `StorageConfigError` naming
   * each storage (`cause`: an `AggregateError` of them all).
   */
  async ready(): Promise<void> {
    const names = this.names();
    // every storage settles before this one rejects: a failure left behind would be an unhandled rejection
    const results = await Promise.allSettled(names.map(async (name) => this.get(name).ready()));
    const failed = names.flatMap((name, i) => {
      const result = results[i] as PromiseSettledResult<void>;
      return result.status === "rejected" ? [{ name, error: result.reason as unknown }] : [];
    });
    if (failed.length === 0) return;
    if (failed.length === 1) throw (failed[0] as { error: unknown }).error;
    throw new StorageConfigError(
      `${failed.length} of ${names.length} storages are not ready: ` +
        failed.map(({ name, error }) => `"${name}": ${(error as Error)?.message ?? String(error)}`).join("; "),
      {
        cause: new AggregateError(
          failed.map(({ error }) => error),
          "storages not ready",
        ),
      },
    );
  }

  /** Swaps `name` for a fresh in-memory storage until `restore()`, and returns it. */
  fake(name = "default"): InMemoryStorage {
    const fake = new InMemoryStorage();
    fake.name = name;
    this.#fakes.set(name, fake);
    this.#generation++;
    return fake;
  }

  /** Undoes `fake()` for `name`, or for every faked storage. */
  restore(name?: string): void {
    if (name === undefined) this.#fakes.clear();
    else this.#fakes.delete(name);
    this.#generation++;
  }

  /**
   * Sets the handler for objects that could not be deleted after a commit or rollback (the save itself
   * succeeded; the default handler logs with `console.warn`). Returns the previous handler.
   */
  onCleanupError(handler: CleanupErrorHandler): CleanupErrorHandler {
    const previous = this.#cleanupErrorHandler;
    this.#cleanupErrorHandler = handler;
    return previous;
  }

  /** @internal Reports a cleanup failure to the handler; never throws. */
  reportCleanupError(error: unknown, failure: CleanupFailure): void {
    try {
      this.#cleanupErrorHandler(error, failure);
    } catch {
      // a broken handler must not turn a committed save into a failure
    }
  }

  /** Closes every built storage (sockets, timers) and forgets them. */
  async close(): Promise<void> {
    const all = [...this.#built.values(), ...this.#fakes.values()];
    this.#built.clear();
    // a factory builds a new storage on the next get(), which has not been through ready()
    this.#generation++;
    await Promise.all(all.map((s) => s.close()));
  }
}

function secretKey(secret: string | Buffer, name: string): KeyObject {
  const bytes = typeof secret === "string" ? Buffer.from(secret, "utf8") : secret;
  if (!Buffer.isBuffer(bytes) || bytes.length < MIN_SECRET_BYTES) {
    throw new StorageConfigError(
      `${name} must be at least ${MIN_SECRET_BYTES} bytes of random data (openssl rand -base64 48).`,
    );
  }
  return createSecretKey(bytes);
}

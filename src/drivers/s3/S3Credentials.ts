import { StorageConfigError } from "../../errors/StorageConfigError";
import type { SigningCredentials } from "./S3UrlSigner";

/** The SDK client's credential provider (`client.config.credentials`). */
export type CredentialProvider = (options?: { forceRefresh?: boolean }) => Promise<SigningCredentials>;

/** Refresh this long before temporary credentials expire (the SDK itself refreshes 5 minutes ahead). */
const REFRESH_AHEAD_MS = 5 * 60 * 1000;
/** Retry this soon when a refresh fails (the old credentials may still be good for a while). */
const RETRY_MS = 30 * 1000;
/** setTimeout cannot wait longer than 2^31 - 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Holds the credentials presigned URLs are signed with, so `url()` stays synchronous. Static keys are
 * known at once; anything else is resolved through the SDK client's own provider chain in `ready()`
 * and refreshed ahead of expiry by an `unref()`ed timer (it never keeps the process alive).
 */
export class S3Credentials {
  readonly #provider: CredentialProvider;
  #current: SigningCredentials | null;
  #pending: Promise<SigningCredentials> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(provider: CredentialProvider, staticCredentials: SigningCredentials | null) {
    this.#provider = provider;
    this.#current = staticCredentials;
  }

  /** Resolves the credentials once (concurrent callers share the request); rejects with the provider's error. */
  async ready(): Promise<SigningCredentials> {
    if (this.#current !== null && !this.#expiresSoon(this.#current)) return this.#current;
    return this.#resolve(false);
  }

  /**
   * The credentials for signing now. Throws `StorageConfigError` when they were never resolved, naming
   * `storages.ready()`, because signing must not wait for the network.
   */
  current(storage: string): SigningCredentials {
    if (this.#current === null) {
      throw new StorageConfigError(
        `Cannot sign a URL for ${storage}: its credentials are not resolved yet. Call \`await storages.ready()\` ` +
          "(or `await storage.ready()`) once at start-up, before rendering URLs.",
      );
    }
    return this.#current;
  }

  /** Stops the refresh timer. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #expiresSoon(credentials: SigningCredentials): boolean {
    return credentials.expiration !== undefined && credentials.expiration.getTime() - Date.now() < REFRESH_AHEAD_MS;
  }

  #resolve(forceRefresh: boolean): Promise<SigningCredentials> {
    if (this.#pending !== null) return this.#pending;
    const pending = this.#provider(forceRefresh ? { forceRefresh } : undefined)
      .then((identity) => {
        const { accessKeyId, secretAccessKey, sessionToken, expiration } = identity;
        const credentials: SigningCredentials = { accessKeyId, secretAccessKey, sessionToken, expiration };
        this.#current = credentials;
        this.#schedule(credentials.expiration);
        return credentials;
      })
      .finally(() => {
        this.#pending = null;
      });
    this.#pending = pending;
    return pending;
  }

  #refresh(): void {
    this.#timer = null;
    // A failed refresh keeps the old credentials (they may have minutes left) and tries again soon.
    this.#resolve(true).catch(() => this.#schedule(this.#current?.expiration, RETRY_MS));
  }

  #schedule(expiration: Date | undefined, delay?: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#closed || (expiration === undefined && delay === undefined)) return;
    const wait = delay ?? Math.max(1000, (expiration as Date).getTime() - Date.now() - REFRESH_AHEAD_MS);
    // Held weakly: a storage forgotten without close() (storages.configure() replaced it) is collected,
    // and its timer then fires once for nothing, instead of refreshing its credentials forever.
    const self = new WeakRef(this);
    this.#timer = setTimeout(
      () => {
        const credentials = self.deref();
        if (credentials !== undefined) credentials.#refresh();
      },
      Math.min(wait, MAX_TIMER_MS),
    );
    this.#timer.unref();
  }
}

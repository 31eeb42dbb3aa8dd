import type { Readable } from "node:stream";
import type { EntityManager } from "typeorm";
import { discardContent } from "../content/discardContent";
import { EmptyFileFieldError } from "../errors/EmptyFileFieldError";
import { FileNotFoundError } from "../errors/FileNotFoundError";
import { FileValidationError } from "../errors/FileValidationError";
import { StorageConfigError } from "../errors/StorageConfigError";
import { validateKey } from "../keys/validateKey";
import { DEFAULT_UPLOAD_EXPIRES_IN, type DirectUpload, type MultipartUpload, type Storage } from "../storage/Storage";
import { storages } from "../storage/storages";
import type { ByteRange, FileContent, ObjectStat, UploadedPart, UploadPart, UrlOptions } from "../types";
import { managerFor } from "./dataSources";
import type { FileFieldDefinition } from "./FileFieldDefinition";
import { fieldId, signTicket, ticketRefusal, uploadKey, uploadOptions } from "./fieldUploads";
import { boundDataSource, readRaw, writeRaw } from "./fileFieldState";
import { generateKey } from "./generateKey";
import { isKeyHeld, keyHolder } from "./isKeyHeld";
import { clearPending, isPending, markPending, pendingHolder } from "./pendingUploads";
import { persistInTurn } from "./persistInTurn";
import { requireStorage } from "./requireStorage";
import { resolveStorage } from "./resolveStorage";
import { queueFailedUpload } from "./transactionFrames";
import { readUploadTicket, type UploadTicketClaims } from "./uploadTicket";
import { TICKET_REFUSALS } from "./verifyUploadTicket";

/** Options of `FieldFile.save()`. */
export interface FieldFileSaveOptions {
  /** Persist the entity after the upload (default true), through `manager.save(entity)`. */
  save?: boolean;
  /**
   * The EntityManager to persist with. Inside `dataSource.transaction(em => ...)` pass `em`: otherwise
   * the row is written on another connection, outside your transaction (and may wait on its locks).
   */
  manager?: EntityManager;
  /** Content type to store; guessed from the name (or taken from a multer file / Blob) otherwise. */
  contentType?: string;
  /** Aborts the upload; a multipart upload is aborted on the server and nothing is left. */
  signal?: AbortSignal;
  /** Called with the number of bytes sent so far. */
  onProgress?: (bytesSent: number) => void;
}

/** Options of `FieldFile.createUpload()`. */
export interface FieldFileUploadOptions {
  /** The exact size of the file in bytes, as the browser reports it (`file.size`). */
  size: number;
  /** Its content type (`file.type`); ignored on local disk, which serves the type the name gives. */
  contentType?: string;
  /** Seconds the upload URL stays valid (default 600); the upload must start before. */
  expiresIn?: number;
}

/** A direct upload for a field: the signed request, and the ticket `attachUpload` takes afterwards. */
export interface FieldFileUpload extends DirectUpload {
  /** Opaque, URL-safe; only this server can make one. It attaches until 6 hours after `expiresAt`. */
  ticket: string;
}

/** Options of `FieldFile.createMultipartUpload()`. */
export interface FieldFileMultipartOptions extends FieldFileUploadOptions {
  /** Bytes per part, 5 MiB to 5 GiB (default 8 MiB, or more to keep within 10,000 parts). */
  partSize?: number;
}

/** An upload in parts for a field: the signed part requests, and the ticket `attachUpload` takes. */
export interface FieldFileMultipartUpload extends MultipartUpload {
  ticket: string;
}

/** Options of `FieldFile.attachUpload()`. */
export interface FieldFileAttachOptions {
  /** For an upload from `createMultipartUpload`: each part's number and the `ETag` its PUT answered. */
  parts?: readonly UploadedPart[];
  /** Persist the entity after attaching (default true), through `manager.save(entity)`. */
  save?: boolean;
  /** The EntityManager to persist with (pass a transaction's). */
  manager?: EntityManager;
}

/**
 * `storage\0key` of the attaches and aborts in progress in this process: one ticket attaches to one
 * row at a time, and is not dropped while it attaches.
 */
const attaching = new Set<string>();
const attachSlot = (storage: Storage, key: string) => `${storage.name}\u0000${key}`;

/** Options of `FieldFile.delete()`. */
export interface FieldFileDeleteOptions {
  /** Persist the cleared column (default true); the object is deleted after the transaction commits. */
  save?: boolean;
  manager?: EntityManager;
}

/** What `url` passes: one shared object rather than a new `{}` per URL rendered. */
const NO_URL_OPTIONS: UrlOptions = Object.freeze({});

/**
 * The lazy file a `@FileColumn` property always reads as: a key (`name`) in a storage, bound to its
 * entity. Nothing touches the storage until a method asks; `url` is synchronous. Empty when the
 * column is null or "": then reads and URLs throw `EmptyFileFieldError`.
 */
export class FieldFile {
  readonly #name: string | null;
  readonly #entity: object | null;
  readonly #field: FileFieldDefinition | null;
  readonly #storage: Storage | null;

  /**
   * A standalone FieldFile (no entity) pointing at `name` in `storage`; entities create bound ones.
   * `name` "" is empty, like null.
   */
  constructor(name: string | null, storage: Storage | FileFieldDefinition, entity: object | null = null) {
    this.#name = name === "" ? null : name;
    if ("propertyName" in storage) {
      this.#field = storage;
      this.#storage = null;
    } else {
      this.#field = null;
      this.#storage = storage;
    }
    this.#entity = entity;
  }

  get [Symbol.toStringTag](): string {
    return "FieldFile";
  }

  /** The key in the storage, or null when the field is empty. */
  get name(): string | null {
    return this.#name;
  }

  /** The storage this field uses, resolved now (throws `StorageConfigError` for an unknown name). */
  get storage(): Storage {
    return this.#storage ?? resolveStorage((this.#field as FileFieldDefinition).storage);
  }

  /** True when the field holds no file. */
  get isEmpty(): boolean {
    return this.#name === null;
  }

  /** The file's URL, synchronously (public, presigned, CDN or signed local). Throws `EmptyFileFieldError`. */
  get url(): string {
    return this.generateUrl(NO_URL_OPTIONS);
  }

  /**
   * A URL with a chosen expiry or response overrides, synchronously. Throws `EmptyFileFieldError`, and
   * `StorageConfigError` when a private field's storage would hand out an unsigned, public URL.
   */
  generateUrl(options: UrlOptions = {}): string {
    const name = this.#require();
    return this.#checkedStorage(name).url(name, options);
  }

  /**
   * The field's storage, refused (`StorageConfigError`) for a private field when that storage would let
   * anyone read its files without a signature: unsigned URLs, or objects written with a public ACL
   * (where a signed URL is decoration). Every path that stores, signs a write or builds a URL
   * takes its storage from here: refusing only the URL, as before, still stored the bytes at an address
   * anyone could guess (`private` resolving to a public storage: a factory returning the wrong one, a
   * reconfiguration), and signed PUTs into it.
   */
  #checkedStorage(key: string | null): Storage {
    const storage = this.storage;
    const field = this.#field;
    if (field?.isPrivate && storage.driver.publicUrls) {
      throw new StorageConfigError(
        `${field.target.name}.${field.propertyName} is private, but storage "${storage.name}" builds public URLs, ` +
          "so its files are readable by anyone who guesses their address: nothing is stored, signed or linked " +
          "there. Configure the private storage with querystringAuth: true (signed, expiring URLs), or give " +
          "the field a storage that signs them.",
        { key, storage: storage.name },
      );
    }
    if (field?.isPrivate && storage.driver.publicObjects === true) {
      throw new StorageConfigError(
        `${field.target.name}.${field.propertyName} is private, but storage "${storage.name}" writes its objects ` +
          "with a public ACL, so anyone can read them without the signed URL: nothing is stored, signed or linked " +
          "there. Remove the public-read, public-read-write or authenticated-read ACL (defaultAcl, " +
          "AWS_DEFAULT_ACL) and any ACL or Grant* naming AllUsers or AuthenticatedUsers in objectParameters " +
          "(AWS_S3_OBJECT_PARAMETERS) from the private storage.",
        { key, storage: storage.name },
      );
    }
    return storage;
  }

  /** Resolves with the size in bytes. */
  async size(): Promise<number> {
    return this.storage.size(this.#require());
  }

  /** Resolves with size, content type, modification time and ETag (one request). */
  async stat(): Promise<ObjectStat> {
    return this.storage.stat(this.#require());
  }

  /** Resolves with the bytes, or those of the inclusive `range`. Throws `FileNotFoundError` when missing. */
  async read(range?: ByteRange): Promise<Buffer> {
    return this.storage.read(this.#require(), range);
  }

  /** Resolves with a stream of the bytes. */
  async open(range?: ByteRange): Promise<Readable> {
    return this.storage.open(this.#require(), range);
  }

  /** Yields the bytes in chunks of `chunkSize` (the last may be shorter), streaming, never the whole file. */
  async *chunks(chunkSize = 64 * 1024): AsyncGenerator<Buffer> {
    if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new RangeError("chunkSize must be a positive integer");
    const stream = await this.open();
    // The chunk being filled from pieces smaller than chunkSize; whole chunks inside a large piece are
    // yielded as views of it, without a copy.
    let partial: Buffer | null = null;
    let filled = 0;
    for await (const piece of stream) {
      let chunk: Buffer = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
      if (partial !== null) {
        const copied = chunk.copy(partial, filled, 0, Math.min(chunk.length, chunkSize - filled));
        filled += copied;
        chunk = chunk.subarray(copied);
        if (filled < chunkSize) continue;
        yield partial;
        partial = null;
      }
      while (chunk.length >= chunkSize) {
        yield chunk.subarray(0, chunkSize);
        chunk = chunk.subarray(chunkSize);
      }
      if (chunk.length > 0) {
        partial = Buffer.allocUnsafe(chunkSize);
        filled = chunk.copy(partial);
      }
    }
    if (partial !== null) yield partial.subarray(0, filled);
  }

  /** Resolves with true when the object exists (false for an empty field). */
  async exists(): Promise<boolean> {
    return this.#name === null ? false : this.storage.exists(this.#name);
  }

  /**
   * Uploads `content` under a key built from `filename` and the field's `uploadTo`, points the field
   * at it and, unless `save: false`, persists the entity (inserting a new one). Resolves with the key.
   * The upload happens before the row is written; if persisting fails or its transaction rolls back,
   * the new object is deleted (kept on a storage with `fileOverwrite`: it may have replaced another
   * row's file) and the field keeps its previous value. A private field on a storage that would make
   * the file public throws `StorageConfigError` first, closing a stream `content`.
   */
  async save(filename: string, content: FileContent, options: FieldFileSaveOptions = {}): Promise<string> {
    const { entity, field, storage, manager, key } = await this.#saveTarget(filename, options).catch(
      (error: unknown) => {
        // refused before storage.save() took the content: a stream of the caller's would stay open
        discardContent(content);
        throw error;
      },
    );
    const saved = await storage.save(key, content, {
      maxLength: field.maxLength,
      contentType: options.contentType,
      ...(field.allowUnsafeInline ? { contentDisposition: null } : {}),
      maxSize: field.maxSize,
      accept: field.accept,
      signal: options.signal,
      onProgress: options.onProgress,
    });
    return this.#take(entity, field, storage, saved, manager, false);
  }

  /** What `save()` settles before it takes the content: the row, the checked storage, the manager and the key. */
  async #saveTarget(filename: string, options: FieldFileSaveOptions) {
    const { entity, field } = this.#bound("save");
    const storage = this.#checkedStorage(null);
    const manager = options.save === false ? undefined : managerFor(entity, options.manager);
    const key = await generateKey(field, storage, entity, filename);
    return { entity, field, storage, manager, key };
  }

  /**
   * Signs a direct upload for this field: a URL the browser PUTs the file to (never through your
   * server), and a ticket to hand back to `attachUpload` afterwards. The key is built from `filename`
   * as `save()` builds it, plus `_` and 16 random characters (`report_h7Ks92LmQpX4vB8n.pdf`): a name no
   * other upload or save will take, so the file that arrives under it can only be this upload's. The
   * field's `maxSize` and `accept` are applied to the declared `size` and type (`FileValidationError`).
   * Nothing is stored and the entity is not changed.
   */
  async createUpload(filename: string, options: FieldFileUploadOptions): Promise<FieldFileUpload> {
    const { entity, field } = this.#bound("createUpload");
    const signingKey = storages.signingKey();
    const storage = this.#checkedStorage(null);
    const upload = await storage.createUpload(
      await uploadKey(field, storage, entity, filename),
      uploadOptions(field, options),
    );
    const headers = Object.fromEntries(
      Object.entries(upload.headers).map(([name, value]) => [name.toLowerCase(), value]),
    );
    const ticket = signTicket(field, storage, upload, headers["content-encoding"] ?? null, null, signingKey);
    return { ...upload, ticket };
  }

  /**
   * `createUpload` for a file the browser sends in parts (S3 only): one signed PUT per part of
   * `partSize` bytes (default 8 MiB), sent in parallel or retried one by one, for files of any size
   * (one PUT takes at most 5 GiB). The browser keeps each part's `ETag` and hands them to
   * `attachUpload(ticket, { parts })`, which completes the upload first. `abortUpload(ticket)` drops an
   * upload that will not be finished.
   */
  async createMultipartUpload(filename: string, options: FieldFileMultipartOptions): Promise<FieldFileMultipartUpload> {
    const { entity, field } = this.#bound("createMultipartUpload");
    const signingKey = storages.signingKey();
    const storage = this.#checkedStorage(null);
    const upload = await storage.createMultipartUpload(await uploadKey(field, storage, entity, filename), {
      ...uploadOptions(field, options),
      partSize: options.partSize,
    });
    const ticket = signTicket(field, storage, upload, upload.contentEncoding, upload, signingKey);
    return { ...upload, ticket };
  }

  /**
   * Signs again the part URLs of an upload from `createMultipartUpload` (all, or `partNumbers`), for
   * `expiresIn` seconds: when a large upload outlives its first URLs, or a part failed late. Throws
   * `FileValidationError` (rule `ticket`) for a ticket that is not this field's, or not of an upload
   * in parts.
   */
  async signUploadParts(
    ticket: string,
    options: { partNumbers?: readonly number[]; expiresIn?: number } = {},
  ): Promise<{ parts: UploadPart[]; expiresAt: Date }> {
    const { field } = this.#bound("signUploadParts");
    const storage = this.#checkedStorage(null);
    const claims = this.#claims(ticket, field, storage);
    if (claims.uploadId === null || claims.partSize === null)
      throw ticketRefusal(field, storage, "its ticket is for a single PUT, not an upload in parts", claims.key);
    // never past the ticket: parts sent later could not be attached
    const left = claims.expires - Math.floor(Date.now() / 1000);
    return storage.signUploadParts(claims.key, claims.uploadId, {
      size: claims.size,
      partSize: claims.partSize,
      partNumbers: options.partNumbers,
      expiresIn: Math.min(options.expiresIn ?? DEFAULT_UPLOAD_EXPIRES_IN, left),
    });
  }

  /**
   * Drops a direct upload that will not be attached (the user gave up): aborts an upload in parts and
   * deletes what arrived, unless a row holds it. Throws `FileValidationError` (rule `ticket`) for a
   * ticket that is not this field's, or whose file a row holds.
   */
  async abortUpload(ticket: string): Promise<void> {
    const { entity, field } = this.#bound("abortUpload");
    const storage = this.storage;
    const claims = this.#claims(ticket, field, storage);
    const slot = attachSlot(storage, claims.key);
    if (
      attaching.has(slot) ||
      readRaw(entity, field.propertyName) === claims.key ||
      pendingHolder(storage, claims.key) !== undefined
    )
      throw ticketRefusal(field, storage, "its file is attached to a row", claims.key);
    // held while it aborts and deletes: an attach of the same ticket meanwhile is refused
    attaching.add(slot);
    try {
      if (await isKeyHeld(storage, claims.key))
        throw ticketRefusal(field, storage, "its file is attached to a row", claims.key);
      if (claims.uploadId !== null) await storage.abortMultipartUpload(claims.key, claims.uploadId);
      await storage.delete(claims.key);
    } finally {
      attaching.delete(slot);
    }
  }

  /** The claims of a ticket issued for `field` on `storage`; throws `FileValidationError` (rule `ticket`). */
  #claims(ticket: string, field: FileFieldDefinition, storage: Storage): UploadTicketClaims {
    const read = readUploadTicket(ticket, storages.signingKey());
    if (!read.ok) throw ticketRefusal(field, storage, TICKET_REFUSALS[read.reason]);
    const { claims } = read;
    if (claims.field !== fieldId(field) || claims.storage !== storage.name)
      throw ticketRefusal(
        field,
        storage,
        `its ticket is for ${claims.field} on storage "${claims.storage}"`,
        claims.key,
      );
    return claims;
  }

  /**
   * Points the field at the file uploaded with a ticket from `createUpload` and, unless `save: false`,
   * persists the entity, as `save()` would have after uploading it (a rollback deletes the file; the
   * file it replaces is deleted after commit). Checks first that the file arrived with the size, type
   * and encoding announced (one request), and that no other row holds it already (one query per file
   * column on the storage). Throws `FileValidationError`: rule `ticket` for a ticket that is forged,
   * expired (6 hours after its URL), for another field or storage, or already attached to another row;
   * rule `upload` when no file arrived, or another one did (that one is deleted: only the ticket's
   * holder could write under its key). Attaching again to the row that holds it only saves the row.
   * Resolves with the key.
   */
  async attachUpload(ticket: string, options: FieldFileAttachOptions = {}): Promise<string> {
    const { entity, field } = this.#bound("attachUpload");
    const storage = this.#checkedStorage(null);
    const refuse = (rule: "ticket" | "upload", why: string, key: string | null = null) =>
      rule === "ticket"
        ? ticketRefusal(field, storage, why, key)
        : new FileValidationError(`Cannot attach the upload to ${fieldId(field)}: ${why}.`, {
            rule,
            key,
            storage: storage.name,
          });
    const claims = this.#claims(ticket, field, storage);
    if (claims.uploadId !== null) {
      // every part, or the completion would make a shorter object (S3 joins any subset)
      const count = Math.max(1, Math.ceil(claims.size / (claims.partSize ?? claims.size)));
      const numbers = (options.parts ?? []).map((part) => part?.partNumber);
      if (numbers.length !== count || numbers.some((n, i) => n !== i + 1))
        throw refuse(
          "upload",
          `it was sent in ${count} parts: pass each part's number and ETag, 1 to ${count}`,
          claims.key,
        );
    }
    const manager = options.save === false ? undefined : managerFor(entity, options.manager);
    if (readRaw(entity, field.propertyName) === claims.key) {
      // attached already (a retry): the file is this row's, never to be deleted for a failed save
      if (manager) await persistInTurn(entity, manager, () => manager.save(entity));
      return claims.key;
    }
    // One ticket, one row: a second row holding the key would lose its file when the first lets go of
    // it. Checked here, before any await, against attaches in progress and entities not saved yet
    // (`save: false`), then against the database.
    const slot = attachSlot(storage, claims.key);
    const holder = pendingHolder(storage, claims.key);
    if (attaching.has(slot) || (holder !== undefined && holder !== entity))
      throw refuse(
        "ticket",
        "its file is being attached to another row, or dropped; upload the file again",
        claims.key,
      );
    attaching.add(slot);
    try {
      const held = await keyHolder(storage, claims.key, { manager: options.manager ?? manager, own: entity });
      if (held === "other")
        throw refuse("ticket", "its file is attached to another row already; upload the file again", claims.key);
      if (held === "own") {
        // this row holds it already (attached through another instance of it): only save the row
        (entity as Record<string, unknown>)[field.propertyName] = claims.key;
        if (manager) await persistInTurn(entity, manager, () => manager.save(entity));
        return claims.key;
      }
      if (claims.uploadId !== null && !(await storage.exists(claims.key))) {
        // joined here; once joined (a retry after a failed save), the object is simply there
        await storage.completeMultipartUpload(claims.key, claims.uploadId, options.parts ?? [], { overwrite: false });
      }
      return await this.#attachChecked(entity, field, storage, claims, manager, refuse);
    } finally {
      attaching.delete(slot);
    }
  }

  /** The rest of `attachUpload`, once the ticket is this field's and no other row holds its file. */
  async #attachChecked(
    entity: object,
    field: FileFieldDefinition,
    storage: Storage,
    claims: UploadTicketClaims,
    manager: EntityManager | undefined,
    refuse: (rule: "ticket" | "upload", why: string, key?: string | null) => FileValidationError,
  ): Promise<string> {
    let stat: ObjectStat;
    try {
      stat = await storage.stat(claims.key);
    } catch (error) {
      if (!(error instanceof FileNotFoundError)) throw error;
      throw refuse("upload", "no file has arrived under its key; send it to the upload URL first", claims.key);
    }
    const encoding = stat.contentEncoding === undefined ? claims.contentEncoding : stat.contentEncoding;
    // the bytes that arrived, as the URL signed their Content-Length (`size` of an encoded one is its original size)
    const arrived = stat.storedSize ?? stat.size;
    if (
      arrived !== claims.size ||
      (stat.contentType ?? "") !== claims.contentType ||
      encoding !== claims.contentEncoding
    ) {
      await storage.delete(claims.key);
      const described = (size: number, type: string | null, coding: string | null) =>
        `${size} bytes of ${type}${coding === null ? "" : `, ${coding}-encoded`}`;
      throw refuse(
        "upload",
        `the file that arrived (${described(arrived, stat.contentType, encoding)}) is not the one announced ` +
          `(${described(claims.size, claims.contentType, claims.contentEncoding)}), so it was deleted`,
        claims.key,
      );
    }
    // no longer pending: a lifecycle rule on the pending tag must not expire a file a row holds
    await storage.confirmUpload(claims.key);
    return this.#take(entity, field, storage, claims.key, manager, true);
  }

  /**
   * Points the field at `key`, a new object, and persists the entity with `manager`: on failure the
   * field gets its previous value back and the object is deleted, unless it is a direct upload
   * (`direct`), which stays for its ticket to be attached again, or was saved on a storage with
   * `fileOverwrite`, where it may have replaced a committed row's file. Until the row commits, the key
   * is pending (a rollback deletes it, or keeps it for those same reasons; see pendingUploads).
   */
  async #take(
    entity: object,
    field: FileFieldDefinition,
    storage: Storage,
    key: string,
    manager: EntityManager | undefined,
    direct: boolean,
  ): Promise<string> {
    const point = async (): Promise<string> => {
      const previous = readRaw(entity, field.propertyName);
      // a direct upload's name is always new (random, and joined without overwrite); save()'s is not
      const overwrote = !direct && storage.fileOverwrite;
      markPending(storage, key, {
        holder: entity,
        propertyName: field.propertyName,
        previous,
        keepOnRollback: direct,
        overwrote,
      });
      (entity as Record<string, unknown>)[field.propertyName] = key;
      if (manager) {
        try {
          await manager.save(entity);
        } catch (error) {
          // No longer pending: the row committed with the key (an `afterTransactionCommit` of another
          // subscriber failed), or its rollback already pointed the field back and dealt with the file.
          if (!isPending(storage, key)) throw error;
          writeRaw(entity, field.propertyName, previous);
          // Inside your transaction the row may have been written before the failure, and the transaction
          // may still commit: the file is left to its rollback, or to its commit if no row holds it then.
          const queryRunner = manager.queryRunner;
          if (queryRunner?.isTransactionActive === true)
            queueFailedUpload(queryRunner, storage, key, direct || overwrote);
          else {
            if (direct) await storage.reopenUpload(key).catch(() => undefined);
            else if (!overwrote) await storage.delete(key).catch(() => undefined);
            clearPending(storage, key);
          }
          throw error;
        }
      }
      return key;
    };
    // after the entity's other persists: its previous value is then the one they left
    return manager ? persistInTurn(entity, manager, point) : point();
  }

  /**
   * Clears the field and, unless `save: false`, persists the entity; the object itself is deleted
   * after the transaction commits (unless the field has `keepFiles`); if it rolls back, the field
   * points at the file again. Does nothing on an empty field,
   * except one left out of the `select` that loaded its row: that row may hold a file, so it is cleared.
   * Throws `StorageConfigError`, leaving the field as it is, when the file is to be deleted and this
   * process has not configured the field's storage.
   */
  async delete(options: FieldFileDeleteOptions = {}): Promise<void> {
    if (this.#name === null && !this.#unknownKey()) return;
    const { entity, field } = this.#bound("delete");
    const manager = options.save === false ? undefined : managerFor(entity, options.manager);
    // refused before the field is cleared: after a refused save it would read as empty, and a retry do nothing
    if (manager && !field.keepFiles) requireStorage(field, this.#name, "clear");
    const clear = async () => {
      (entity as Record<string, unknown>)[field.propertyName] = null;
      if (manager) await manager.save(entity);
    };
    await (manager ? persistInTurn(entity, manager, clear) : clear());
  }

  /**
   * Points the field at an existing key (validated, no I/O), or clears it with `null`. The previous
   * object is deleted after the next committed save, as for any replaced file.
   */
  assign(key: string | null): void {
    const { entity, field } = this.#bound("assign");
    if (key !== null && key !== "") validateKey(key, this.#storage?.name ?? null);
    (entity as Record<string, unknown>)[field.propertyName] = key === "" ? null : key;
  }

  /** `{ name, url }` for JSON responses, or null when empty. */
  toJSON(): { name: string; url: string } | null {
    return this.#name === null ? null : { name: this.#name, url: this.url };
  }

  /** The key, or "" when empty. */
  toString(): string {
    return this.#name ?? "";
  }

  /**
   * True for the field of a row loaded (or saved) without this column in its `select`: the row may
   * hold a file although the field reads as empty.
   */
  #unknownKey(): boolean {
    if (!this.#entity || !this.#field) return false;
    return readRaw(this.#entity, this.#field.propertyName) === undefined && boundDataSource(this.#entity) !== null;
  }

  #require(): string {
    if (this.#name === null) {
      const where = this.#field ? ` ${this.#field.target.name}.${this.#field.propertyName}` : "";
      throw new EmptyFileFieldError(`The file field${where} has no file associated with it.`, {
        storage: typeof this.#field?.storage === "string" ? this.#field.storage : (this.#storage?.name ?? null),
      });
    }
    return this.#name;
  }

  #bound(what: string): { entity: object; field: FileFieldDefinition } {
    if (!this.#entity || !this.#field) {
      throw new StorageConfigError(
        `FieldFile.${what}() needs a FieldFile read from an entity property (entity.file.${what}(...)); ` +
          "a standalone FieldFile has no row to update.",
      );
    }
    return { entity: this.#entity, field: this.#field };
  }
}

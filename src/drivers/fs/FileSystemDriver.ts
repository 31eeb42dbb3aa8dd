import { type BigIntStats, constants, type Dirent } from "node:fs";
import { chmod, type FileHandle, lstat, open, readdir, rename, stat, unlink } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { guessContentType } from "../../content/guessContentType";
import { InvalidKeyError } from "../../errors/InvalidKeyError";
import { StorageConfigError } from "../../errors/StorageConfigError";
import { encodeKeyPath } from "../../http/encodeKeyPath";
import type { UrlSigner } from "../../http/UrlSigner";
import type {
  ByteRange,
  DriverBody,
  DriverUploadOptions,
  DriverUploadRequest,
  DriverWriteOptions,
  DriverWriteResult,
  ListResult,
  ObjectStat,
  StorageDriver,
  StoredObject,
  UrlOptions,
} from "../../types";
import { claimName, createTempFile, TEMP_FILE, writeBody } from "./atomicWrite";
import { isMissing, SafeRoot } from "./SafeRoot";

/** The longest file or directory name most file systems take, in bytes (ext4, XFS, APFS, NTFS in UTF-16 units). */
const MAX_NAME_BYTES = 255;

/**
 * Throws `InvalidKeyError` when a segment of `key` is longer than file systems take (`MAX_NAME_BYTES`):
 * caught before any byte is read, instead of an `ENAMETOOLONG` once the content is written.
 */
function checkNameLengths(key: string, lead: string, advice: string): void {
  const long = key.split("/").find((segment) => Buffer.byteLength(segment) > MAX_NAME_BYTES);
  if (long === undefined) return;
  throw new InvalidKeyError(
    `${lead}${JSON.stringify(long)} is ${Buffer.byteLength(long)} bytes long, and file systems take names of at ` +
      `most ${MAX_NAME_BYTES}: ${advice}.`,
    { key },
  );
}

/**
 * Errors that mean a key names no readable file, beyond "missing": a segment longer than the file
 * system allows (ENAMETOOLONG) and a symlink loop or a symlink where none may be (ELOOP). A request for
 * such a key is a 404, not a server error.
 */
function isUnreadable(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === "ENAMETOOLONG" || code === "ELOOP";
}

/** Settings of the file-system driver, already checked by `FileSystemStorage`. */
export interface FileSystemDriverOptions {
  /** Root directory; created on the first write. */
  location: string;
  /** URL prefix ending with `/`: absolute (`https://cdn.example/media/`) or path-only (`/media/`). */
  baseUrl: string;
  /** Signs URLs; required when `querystringAuth` is on, and for `download`/`contentType` overrides. */
  signer: UrlSigner | null;
  querystringAuth: boolean;
  /** Default lifetime of a signed URL, in seconds. */
  querystringExpire: number;
  /** Mode given to every saved file (`chmod`), like Django's `FILE_UPLOAD_PERMISSIONS`. */
  filePermissions?: number;
  /** Mode given to every directory it creates, like Django's `FILE_UPLOAD_DIRECTORY_PERMISSIONS`. */
  directoryPermissions?: number;
}

/** A file opened for reading: its metadata, taken from the open descriptor, and a way to stream it. */
export interface OpenedFile {
  stat: ObjectStat;
  /** A stream of the file (or of the inclusive `range`); it closes the descriptor when done. */
  stream(range?: ByteRange): Readable;
  /** Closes the descriptor without reading (HEAD, 304, 416). */
  close(): Promise<void>;
}

/**
 * Stores objects as files under `location`; every path goes through `SafeRoot`, which refuses
 * anything outside it, symlinks included. A write goes to a temp file in the target directory, so a
 * reader never sees half a file: with overwrite it is renamed into place; without, it is hard-linked
 * to the final name, an atomic create that fails with `EEXIST` when another writer got there first,
 * so a race never overwrites and the body is never read twice. Deleting a file, and a write that
 * fails, also remove the directories they leave empty (Django keeps them): listings then match S3 and
 * memory, where "directories" exist only as key prefixes.
 */
export class FileSystemDriver implements StorageDriver {
  readonly kind = "filesystem";
  readonly baseUrl: string;
  /** The path part of `baseUrl`, which `serveFiles` matches and signatures cover. */
  /** Files are served with the type their name gives; none is stored. */
  readonly typeFromName = true;
  readonly basePath: string;
  readonly querystringAuth: boolean;
  /** Unsigned URLs are public: anyone who has one can fetch the file through `serveFiles`. */
  get publicUrls(): boolean {
    return !this.querystringAuth;
  }
  readonly querystringExpire: number;
  readonly signer: UrlSigner | null;
  readonly #root: SafeRoot;
  readonly #filePermissions: number | undefined;

  constructor(options: FileSystemDriverOptions) {
    this.#root = new SafeRoot(options.location, options.directoryPermissions);
    this.baseUrl = options.baseUrl;
    // Parsed, so a protocol-relative or not-yet-encoded base yields the path a request actually carries.
    this.basePath = new URL(options.baseUrl, "http://localhost").pathname;
    this.signer = options.signer;
    this.querystringAuth = options.querystringAuth;
    this.querystringExpire = options.querystringExpire;
    this.#filePermissions = options.filePermissions;
  }

  /** The absolute root directory. */
  get location(): string {
    return this.#root.location;
  }

  /**
   * Resolves with the key used and its size; on failure or abort the temp file is removed, and with it
   * the directories it leaves empty.
   */
  async write(key: string, body: DriverBody, options: DriverWriteOptions): Promise<DriverWriteResult> {
    let created: { dir: string; tmp: string; handle: FileHandle };
    try {
      options.signal?.throwIfAborted();
      checkNameLengths(key, "", "save it under a shorter name");
      created = await this.#createTemp(key);
    } catch (error) {
      // The body was never read: release its source (a file descriptor, a socket).
      if (body.kind === "stream") body.stream.destroy();
      throw await this.#explainClash(key, error);
    }
    const { dir, tmp, handle } = created;
    let pending: string | null = tmp;
    try {
      const size = await writeBody(handle, body, options.signal);
      if (this.#filePermissions !== undefined) await chmod(tmp, this.#filePermissions);
      options.signal?.throwIfAborted();
      let final = key;
      if (options.overwrite) {
        await rename(tmp, path.join(dir, path.posix.basename(final))).catch(async (error: unknown) => {
          throw await this.#explainClash(key, error);
        });
      } else {
        for (;;) {
          try {
            await claimName(tmp, await this.#targetFor(final, dir, key));
            break;
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
            final = options.alternativeKey(final);
            checkNameLengths(final, "No room for an alternative name: ", "save it under a shorter name");
          }
        }
      }
      pending = null;
      return { key: final, size };
    } finally {
      if (pending !== null) {
        await unlink(pending).catch(() => undefined);
        // the directories made for it, now empty, go too: a failed save leaves no directory, as on S3
        await this.#root.prune(dir);
      }
    }
  }

  /** Resolves with a stream of the file (or of the inclusive `range`), or `null` when there is none. */
  async open(key: string, range?: ByteRange): Promise<Readable | null> {
    const file = await this.openFile(key);
    return file ? file.stream(range) : null;
  }

  /**
   * Opens the file behind `key` once, for both its metadata and its bytes, so a concurrent replace
   * cannot mix the two. Resolves with `null` when missing or not a regular file.
   */
  async openFile(key: string): Promise<OpenedFile | null> {
    let real: string | null;
    try {
      real = await this.#root.existing(key);
    } catch (error) {
      if (isUnreadable(error)) return null;
      throw error;
    }
    if (real === null) return null;
    let handle: FileHandle;
    try {
      // O_NONBLOCK: a FIFO planted in the folder opens at once (and is refused below as not a file)
      // instead of blocking a libuv thread until a writer comes; O_NOFOLLOW: a symlink swapped in
      // after the real path was checked is not followed.
      handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch (error) {
      if (isMissing(error) || isUnreadable(error)) return null;
      throw error;
    }
    try {
      const stats = await handle.stat({ bigint: true });
      if (!stats.isFile()) {
        await handle.close();
        return null;
      }
      return {
        stat: toObjectStat(key, stats),
        stream: (range) => handle.createReadStream({ start: range?.start, end: range?.end }),
        close: () => handle.close(),
      };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  /** Resolves with size, guessed content type, mtime and a weak ETag (size, mtime, inode), or `null` when missing. */
  async stat(key: string): Promise<ObjectStat | null> {
    const file = await this.openFile(key);
    if (file === null) return null;
    await file.close();
    return file.stat;
  }

  /** Removes the file and the directories it leaves empty; a missing key (or a directory) is a no-op. */
  async delete(key: string): Promise<void> {
    const parent = await this.#root.existingParent(key);
    if (parent === null) return;
    // unlink removes a symlink itself, never its target, so the last segment needs no realpath.
    const file = path.join(parent, path.posix.basename(key));
    try {
      await unlink(file);
    } catch (error) {
      if (isMissing(error)) return;
      // macOS reports unlink() of a directory as EPERM.
      if ((error as NodeJS.ErrnoException).code === "EPERM" && (await isDirectory(file))) return;
      throw error;
    }
    await this.#root.prune(parent);
  }

  /** Lists the immediate sub-directories and files under `prefix` ("" or ending with `/`), sorted. */
  async list(prefix: string): Promise<ListResult> {
    const dir = prefix === "" ? await this.#root.root(false) : await this.#root.existing(prefix.slice(0, -1));
    if (dir === null) return { directories: [], files: [] };
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return { directories: [], files: [] };
      throw error;
    }
    const directories = entries.filter((e) => e.isDirectory()).map((e) => e.name);
    const files = entries.filter((e) => e.isFile() && !TEMP_FILE.test(e.name)).map((e) => e.name);
    return { directories: directories.sort(), files: files.sort() };
  }

  /**
   * Every file under `prefix` ("" or ending with `/`), at any depth; symlinks and
   * unfinished writes are left out, as `list` leaves them out.
   */
  async listAll(prefix: string): Promise<StoredObject[]> {
    const dir = prefix === "" ? await this.#root.root(false) : await this.#root.existing(prefix.slice(0, -1));
    if (dir === null) return [];
    const found: StoredObject[] = [];
    const visit = async (directory: string, keyPrefix: string): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(directory, { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) return; // removed while listing
        throw error;
      }
      const files = entries.filter((e) => e.isFile() && !TEMP_FILE.test(e.name));
      const stats = await Promise.all(
        files.map((e) =>
          lstat(path.join(directory, e.name)).catch((error) => (isMissing(error) ? null : Promise.reject(error))),
        ),
      );
      files.forEach((entry, i) => {
        const stat = stats[i];
        if (stat?.isFile())
          found.push({
            name: keyPrefix + entry.name,
            storedSize: stat.size,
            lastModified: new Date(stat.mtimeMs),
            md5: null,
          });
      });
      for (const entry of entries)
        if (entry.isDirectory()) await visit(path.join(directory, entry.name), `${keyPrefix}${entry.name}/`);
    };
    await visit(dir, prefix);
    return found;
  }

  /**
   * `baseUrl` plus the percent-encoded key; signed when `querystringAuth` is on or when a download
   * name or content type is asked for. Throws `StorageConfigError` when that needs a missing secret.
   */
  url(key: string, options: UrlOptions): string {
    const encoded = encodeKeyPath(key);
    const href = this.baseUrl + encoded;
    const overrides = options.download !== undefined || options.contentType !== undefined;
    if (!this.querystringAuth && !overrides) return href;
    if (this.signer === null) {
      throw new StorageConfigError(
        "URLs with a download name or content type are signed: give this FileSystemStorage a signingSecret.",
        { key },
      );
    }
    const query = this.signer.sign(this.basePath + encoded, options.expiresIn ?? this.querystringExpire, options);
    return `${href}?${query}`;
  }

  /**
   * A signed PUT of `options.size` bytes to `baseUrl` plus the key, which `serveFiles` accepts. The file
   * is served with the type its name gives (this driver stores no content type), so only the size and
   * whether it may replace a file are signed. Throws `StorageConfigError` without a signing secret.
   */
  async presignUpload(key: string, options: DriverUploadOptions): Promise<DriverUploadRequest> {
    if (this.signer === null) {
      throw new StorageConfigError(
        "Direct uploads to local disk go through signed URLs: give this FileSystemStorage a signingSecret " +
          "(env STORAGES_SIGNING_SECRET) and serve it with serveFiles().",
        { key },
      );
    }
    checkNameLengths(key, "", "upload it under a shorter name");
    const encoded = encodeKeyPath(key);
    const query = this.signer.signUpload(this.basePath + encoded, options.expiresIn, options);
    const expires = Number(new URLSearchParams(query).get("expires"));
    return {
      url: `${this.baseUrl}${encoded}?${query}`,
      method: "PUT",
      headers: { "content-type": options.contentType },
      expiresAt: new Date(expires * 1000),
    };
  }

  /** The file's path under `location` (it may not exist yet); throws `PathOutsideRootError` if it would escape. */
  path(key: string): string {
    return this.#root.join(key);
  }

  /**
   * `error` in the words of the key when it means that the key and another one cannot both exist here,
   * as they can on S3 and in memory: a segment of `key` is a file (ENOTDIR), or `key` is a directory
   * (EISDIR); otherwise `error` itself.
   */
  async #explainClash(key: string, error: unknown): Promise<unknown> {
    const code = (error as NodeJS.ErrnoException)?.code;
    const both = "(S3 and memory keep both a key and keys under it): save under another name.";
    // the system's code stays, for callers that answer by it (serveFiles: 409)
    const explained = (message: string) => Object.assign(new Error(message, { cause: error }), { code });
    if (code === "EISDIR")
      return explained(`${JSON.stringify(key)} is a directory, so on disk it cannot also be a file ${both}`);
    if (code !== "ENOTDIR") return error;
    const segments = key.split("/");
    for (let i = 1; i < segments.length; i++) {
      const ancestor = segments.slice(0, i).join("/");
      const isDirectory = await stat(this.#root.join(ancestor)).then(
        (s) => s.isDirectory(),
        () => true,
      );
      if (!isDirectory)
        return explained(`${JSON.stringify(ancestor)} is a file, so on disk it cannot also be a directory ${both}`);
    }
    return error;
  }

  /** Creates the temp file, retrying when a concurrent delete pruned the directory in between. */
  async #createTemp(key: string): Promise<{ dir: string; tmp: string; handle: FileHandle }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const dir = await this.#root.parentFor(key);
        return { dir, ...(await createTempFile(dir, key)) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT" || attempt >= 5) throw error;
      }
    }
  }

  /** The final path of `final`: alternatives stay in the first key's directory; any other is resolved anew. */
  async #targetFor(final: string, dir: string, first: string): Promise<string> {
    const base = path.posix.basename(final);
    if (path.posix.dirname(final) === path.posix.dirname(first)) return path.join(dir, base);
    return path.join(await this.#root.parentFor(final), base);
  }
}

/**
 * The ETag is weak, `W/"size-mtimeNs-inode"` in hex. Size and mtime alone repeat when a file is
 * replaced by as many bytes within one tick of the file system's clock (coarse on many), and caches
 * would get 304 for the new bytes. Every write renames or links a new temp file into place, created
 * while the old file still exists, so a replacement always has another inode.
 */
function toObjectStat(key: string, stats: BigIntStats): ObjectStat {
  return {
    size: Number(stats.size),
    contentType: guessContentType(key),
    lastModified: new Date(Number(stats.mtimeMs)),
    etag: `W/"${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}-${stats.ino.toString(16)}"`,
  };
}

function isDirectory(file: string): Promise<boolean> {
  return lstat(file).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

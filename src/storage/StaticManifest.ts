import { createHash } from "node:crypto";
import { FileNotFoundError } from "../errors/FileNotFoundError";
import { StorageConfigError } from "../errors/StorageConfigError";
import type { UrlOptions } from "../types";
import { pythonJsonDumps } from "./pythonJsonDumps";
import type { Storage } from "./Storage";

/** Where `collectstatic --manifest` writes the manifest and `StaticManifest.load` reads it (Django's name). */
export const DEFAULT_MANIFEST_NAME = "staticfiles.json";

/** The manifest version written; Django writes and reads the same format. */
const VERSION = "1.1";

export interface StaticManifestOptions {
  /** The manifest's name in the storage (default `staticfiles.json`). */
  name?: string;
  /**
   * Default true, as Django's `manifest_strict`: `url()` of a name the manifest lacks throws
   * `FileNotFoundError`. With false it gives the unhashed name's URL.
   */
  strict?: boolean;
}

/**
 * The names of collected static files and of their content-hashed copies, as `collectstatic
 * --manifest` wrote them (Django's `ManifestStaticFilesStorage`): load it once at start-up, then
 * `url("css/site.css")` gives the hashed copy's URL synchronously, for templates. The copies never
 * change, so they may be cached for a year (`maxAgeSecondsCached`), and each deploy's pages name
 * their own.
 */
export class StaticManifest {
  readonly storage: Storage;
  /** The manifest's name in the storage. */
  readonly name: string;
  readonly #paths: ReadonlyMap<string, string>;
  readonly #strict: boolean;

  constructor(storage: Storage, paths: ReadonlyMap<string, string>, options: StaticManifestOptions = {}) {
    this.storage = storage;
    this.name = options.name ?? DEFAULT_MANIFEST_NAME;
    this.#paths = paths;
    this.#strict = options.strict ?? true;
  }

  /**
   * Reads the manifest from `storage`. Throws `FileNotFoundError` when there is none (collectstatic has
   * not run with `--manifest`), `StorageConfigError` when it is not a manifest, and the storage's
   * error when it cannot be read.
   */
  static async load(storage: Storage, options: StaticManifestOptions = {}): Promise<StaticManifest> {
    const name = options.name ?? DEFAULT_MANIFEST_NAME;
    let bytes: Buffer;
    try {
      bytes = await storage.read(name);
    } catch (error) {
      if (!(error instanceof FileNotFoundError)) throw error;
      throw new FileNotFoundError(
        `No static manifest ${JSON.stringify(name)} in ${label(storage)}. Run \`typeorm-storages collectstatic ` +
          "--manifest <source-dir>...` (or collectStatic(storage, sources, { manifest: true })) before starting the app.",
        { key: name, storage: storage.name, cause: error },
      );
    }
    return new StaticManifest(storage, StaticManifest.parse(bytes.toString("utf8"), name), options);
  }

  /** The paths of a manifest's text; throws `StorageConfigError` when it is not one (`source` names it). */
  static parse(text: string, source = DEFAULT_MANIFEST_NAME): Map<string, string> {
    const refuse = (why: string, cause?: unknown): never => {
      throw new StorageConfigError(
        `${source} is not a static files manifest: ${why}. Run collectstatic with --manifest again to rewrite it.`,
        { key: source, cause },
      );
    };
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      refuse("it is not JSON", error);
    }
    const { paths, version } = (data ?? {}) as { paths?: unknown; version?: unknown };
    if (version !== "1.0" && version !== VERSION) refuse(`version ${JSON.stringify(version)} is not 1.0 or 1.1`);
    if (typeof paths !== "object" || paths === null || Array.isArray(paths)) refuse('it has no "paths" object');
    const map = new Map<string, string>();
    for (const [name, hashed] of Object.entries(paths as object)) {
      if (typeof hashed !== "string") refuse(`the path of ${JSON.stringify(name)} is not a string`);
      map.set(name, hashed as string);
    }
    return map;
  }

  /**
   * The manifest's text for `paths`, byte for byte what Django's `save_manifest` writes for them: names
   * sorted by code point, Python's `json.dumps` spacing and escapes, and its `hash` (the MD5 of the
   * sorted pairs).
   */
  static serialize(paths: ReadonlyMap<string, string>): string {
    const sorted = [...paths].sort(([a], [b]) => byCodePoint(a, b));
    const hash = createHash("md5").update(pythonJsonDumps(sorted)).digest("hex").slice(0, 12);
    return pythonJsonDumps({ paths: Object.fromEntries(sorted), version: VERSION, hash });
  }

  /** Every collected name and its hashed copy's name. */
  get paths(): ReadonlyMap<string, string> {
    return this.#paths;
  }

  /**
   * The hashed copy's name of `name` (`css/site.css` → `css/site.0123456789ab.css`); a query or
   * fragment is kept. Throws `FileNotFoundError` for a name not collected, unless `strict` is false.
   */
  hashedName(name: string): string {
    const cut = name.search(/[?#]/);
    const path = cut === -1 ? name : name.slice(0, cut);
    const hashed = this.#paths.get(path);
    if (hashed === undefined) {
      if (!this.#strict) return name;
      throw new FileNotFoundError(
        `The static manifest ${JSON.stringify(this.name)} of ${label(this.storage)} has no ${JSON.stringify(path)}. ` +
          "Check the name (relative to the source directory, no leading slash), or run collectstatic --manifest " +
          "again and restart: the manifest is read once, at start-up.",
        { key: path, storage: this.storage.name },
      );
    }
    return cut === -1 ? hashed : hashed + name.slice(cut);
  }

  /**
   * The URL of `name`'s hashed copy, synchronously, with the name's fragment, and its query unless the
   * storage signs its URLs (a signature covers the query). Throws as `hashedName` and as the storage's
   * `url()`.
   */
  url(name: string, options?: UrlOptions): string {
    const hashed = this.hashedName(name);
    const cut = hashed.search(/[?#]/);
    if (cut === -1) return this.storage.url(hashed, options);
    const url = this.storage.url(hashed.slice(0, cut), options);
    const hash = hashed.indexOf("#", cut);
    const query = hashed.slice(cut, hash === -1 ? undefined : hash);
    const fragment = hash === -1 ? "" : hashed.slice(hash);
    // A signed or presigned URL's signature covers its whole query, so the name's query cannot join
    // it; the hashed name already does what a `?v=2` was for.
    return (url.includes("?") ? url : url + query) + fragment;
  }
}

/** Python's order of strings, by code point; UTF-16's `<` puts U+10000 and above before U+E000–U+FFFF. */
function byCodePoint(a: string, b: string): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

const label = (storage: Storage) => (storage.name ? `storage "${storage.name}"` : `the ${storage.driver.kind} storage`);

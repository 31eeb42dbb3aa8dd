import type { IncomingMessage, ServerResponse } from "node:http";
import { posix } from "node:path";
import { pipeline } from "node:stream";
import { isUnsafeInline } from "../content/guessContentType";
import { PathOutsideRootError } from "../drivers/fs/PathOutsideRootError";
import { StorageConfigError } from "../errors/StorageConfigError";
import { isHashedStaticName } from "../keys/hashedStaticName";
import { validateKey } from "../keys/validateKey";
import { FileSystemStorage } from "../storage/FileSystemStorage";
import { ifRangeMatches, isNotModified, isPreconditionFailed, toEntityTag } from "./conditionalRequest";
import { contentDisposition } from "./contentDisposition";
import { encodeKeyPath } from "./encodeKeyPath";
import { exactLength } from "./exactLength";
import { parseRange } from "./parseRange";
import { receiveUpload } from "./receiveUpload";
import { REFUSALS, reply } from "./reply";

/** The request `serveFiles` reads: Node's, plus Express's `originalUrl` when mounted under a path. */
export type ServeFilesRequest = IncomingMessage & { originalUrl?: string };

/** `(req, res, next?)`: Express/Connect middleware, or a plain `node:http` handler. */
export type ServeFilesHandler = (req: ServeFilesRequest, res: ServerResponse, next?: (error?: unknown) => void) => void;

/** How long browsers and shared caches keep unsigned files, unless `ServeFilesOptions` says otherwise. */
const DEFAULT_MAX_AGE = 3600;
const MAX_MAX_AGE = 10 * 365 * 24 * 3600;

export interface ServeFilesOptions {
  /** `Cache-Control: public, max-age=N` of files served without a signature (default 3600). */
  maxAgeSeconds?: number;
  /**
   * `Cache-Control: public, max-age=N, immutable` for unsigned files whose name is a hashed copy from
   * `collectstatic --manifest` (`site.0123456789ab.css`), as S3's `maxAgeSecondsCached` (default unset:
   * `maxAgeSeconds`). Give it to the `staticfiles` storage only: a media storage may see a deleted
   * file's name taken again by other bytes.
   */
  maxAgeSecondsCached?: number;
}
/**
 * Returns middleware that serves the files of a `FileSystemStorage` under its `baseUrl` path. Mount it
 * bare (`app.use(serveFiles(s))`), under that path (`app.use("/media", serveFiles(s))`: the full
 * `req.originalUrl` is matched), or call it from a `node:http` server. Requests outside the base path
 * go to `next()` (404 without one). GET and HEAD are answered, and PUT with an upload URL from
 * `Storage.createUpload` (405 otherwise; receiveUpload.ts). With
 * `querystringAuth` every request needs a valid, unexpired signature (403); on any storage a signed
 * `download`/`contentType` override is honoured, an unsigned one ignored. Malformed percent-encoding
 * is a 400, and a path `validateKey` refuses is a 404 that never reaches the disk. Supports single
 * `Range`s, `ETag`/`If-None-Match`, `Last-Modified`/`If-Modified-Since`, 412 for a failed `If-Match` or
 * `If-Unmodified-Since` (ETags are weak, so only `If-Match: *` passes), and sends
 * `X-Content-Type-Options: nosniff`; html, svg and xml go out as attachments unless the storage has
 * `allowUnsafeInline`. Files are streamed, never buffered, exactly the length announced (a file cut short
 * meanwhile closes the connection); unexpected errors go to `next(error)`
 * (500 without one). Unsigned files are cached an hour (`options`); signed ones privately, until they
 * expire. Throws `StorageConfigError` when `storage` is not a `FileSystemStorage` or an option is invalid.
 */
export function serveFiles(storage: FileSystemStorage, options: ServeFilesOptions = {}): ServeFilesHandler {
  if (!(storage instanceof FileSystemStorage)) {
    throw new StorageConfigError(
      "serveFiles() serves a FileSystemStorage; other storages serve their own URLs (S3, a CDN).",
    );
  }
  const maxAge = (name: keyof ServeFilesOptions): number | undefined => {
    const value = options[name];
    if (value !== undefined && !(Number.isInteger(value) && value >= 0 && value <= MAX_MAX_AGE))
      throw new StorageConfigError(`serveFiles(): ${name} must be a whole number of seconds from 0 to ${MAX_MAX_AGE}.`);
    return value;
  };
  const publicCache = `public, max-age=${maxAge("maxAgeSeconds") ?? DEFAULT_MAX_AGE}`;
  const cachedMaxAge = maxAge("maxAgeSecondsCached");
  const hashedCache = cachedMaxAge === undefined ? publicCache : `public, max-age=${cachedMaxAge}, immutable`;
  const driver = storage.driver;
  const basePath = driver.basePath;

  const serve = async (req: ServeFilesRequest, res: ServerResponse, next?: (error?: unknown) => void) => {
    const { pathname, query } = splitUrl(req.originalUrl ?? req.url ?? "/");
    if (!pathname.startsWith(basePath)) {
      if (next) next();
      else reply(req, res, 404, "Not Found");
      return;
    }
    // only a storage that can sign takes direct uploads
    const upload = req.method === "PUT" && driver.signer !== null;
    if (!upload && req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", driver.signer === null ? "GET, HEAD" : "GET, HEAD, PUT");
      return reply(req, res, 405, "Method Not Allowed");
    }
    let key: string;
    try {
      key = decodeURIComponent(pathname.slice(basePath.length));
    } catch {
      return reply(req, res, 400, "Bad Request: malformed percent-encoding in the path.");
    }
    try {
      validateKey(key, storage.name);
    } catch {
      return reply(req, res, 404, "Not Found");
    }
    if (upload) return receiveUpload(driver, req, res, key, query);

    let cacheControl = isHashedStaticName(key) ? hashedCache : publicCache;
    let typeOverride: string | null = null;
    let dispositionOverride: string | null = null;
    const signer = driver.signer;
    if (signer !== null && (driver.querystringAuth || new URLSearchParams(query).has("signature"))) {
      // Signatures cover the canonical encoding of the key, so a proxy re-encoding the path is harmless.
      const check = signer.verify(basePath + encodeKeyPath(key), query);
      if (!check.valid) return reply(req, res, 403, REFUSALS[check.reason]);
      if (check.upload !== null) return reply(req, res, 403, "Forbidden: this URL is for uploading the file (PUT).");
      typeOverride = check.contentType;
      dispositionOverride = check.contentDisposition;
      // capped as public files are: some caches overflow a max-age past 2^31 s (RFC 9111 §1.2.2)
      cacheControl = `private, max-age=${Math.min(signer.secondsUntil(check.expires), MAX_MAX_AGE)}`;
    }

    const file = await driver.openFile(key);
    if (file === null) return reply(req, res, 404, "Not Found");
    const { size, lastModified } = file.stat;
    const etag = toEntityTag(file.stat.etag);
    res.setHeader("Cache-Control", cacheControl);
    // A time in the future (a file copied with its times from a machine whose clock is ahead) is sent as
    // this response's Date (RFC 9110 §8.8.2.1): echoed in If-Modified-Since, it would make every
    // replacement older than it a 304. Comparisons below use the file's real time.
    const now = new Date();
    res.setHeader("Date", now.toUTCString());
    res.setHeader("Last-Modified", (lastModified > now ? now : lastModified).toUTCString());
    if (etag !== null) res.setHeader("ETag", etag);
    if (isPreconditionFailed(req.headers, etag, lastModified)) {
      await file.close();
      return reply(
        req,
        res,
        412,
        "Precondition Failed: the file is not the version If-Match or If-Unmodified-Since names.",
      );
    }
    if (isNotModified(req.headers, etag, lastModified)) {
      await file.close();
      res.statusCode = 304;
      res.end();
      return;
    }

    const type = typeOverride ?? file.stat.contentType ?? "application/octet-stream";
    const disposition =
      dispositionOverride ??
      (!storage.allowUnsafeInline && isUnsafeInline(type) ? contentDisposition(posix.basename(key)) : null);
    res.setHeader("Content-Type", type);
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Accept-Ranges", "bytes");
    if (disposition !== null) res.setHeader("Content-Disposition", disposition);

    const range = ifRangeMatches(req.headers, etag, lastModified) ? parseRange(req.headers.range, size) : null;
    if (range === "unsatisfiable") {
      await file.close();
      res.setHeader("Content-Range", `bytes */${size}`);
      res.removeHeader("Content-Disposition");
      return reply(req, res, 416, "Range Not Satisfiable");
    }
    if (range === null) {
      res.statusCode = 200;
      res.setHeader("Content-Length", size);
    } else {
      res.statusCode = 206;
      res.setHeader("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
      res.setHeader("Content-Length", range.end - range.start + 1);
    }
    if (req.method === "HEAD" || size === 0) {
      await file.close();
      res.end();
      return;
    }
    // pipeline destroys the file stream (closing its descriptor) when the client goes away. The read
    // stops at the announced end, and a file cut short meanwhile closes the connection (exactLength).
    const bytes = range ?? { start: 0, end: size - 1 };
    pipeline(file.stream(bytes), exactLength(bytes.end - bytes.start + 1), res, () => undefined);
  };

  return (req, res, next) => {
    serve(req, res, next).catch((error: unknown) => {
      if (error instanceof PathOutsideRootError) return reply(req, res, 404, "Not Found");
      if (res.headersSent) return res.destroy(error as Error);
      if (next) return next(error);
      reply(req, res, 500, "Internal Server Error");
    });
  };
}

/** Splits a request target into its raw path and query, dropping the origin of an absolute-form target. */
function splitUrl(target: string): { pathname: string; query: string } {
  let rest = target;
  if (!rest.startsWith("/")) {
    try {
      const url = new URL(rest);
      rest = url.pathname + url.search;
    } catch {
      return { pathname: "", query: "" };
    }
  }
  const q = rest.indexOf("?");
  return q === -1 ? { pathname: rest, query: "" } : { pathname: rest.slice(0, q), query: rest.slice(q + 1) };
}

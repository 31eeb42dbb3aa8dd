import path from "node:path";
import { Eta } from "eta";
import express, { type NextFunction, type Request, type Response } from "express";
import { lookup } from "mime-types";
import type { DataSource } from "typeorm";
import {
  FileSystemStorage,
  FileValidationError,
  getValidName,
  InvalidKeyError,
  S3Storage,
  type StaticManifest,
  serveFiles,
  storages,
  verifyUploadTicket,
} from "typeorm-storages";
import { APP_DIR, type AppConfig } from "./config";
import {
  ByteCounter,
  formatBytes,
  type IncomingFile,
  peekFirstChunk,
  receiveUpload,
  tooLargeMessage,
} from "./receiveUpload";
import { Upload, type Visibility } from "./Upload";
import { UploadError } from "./UploadError";

interface FormValues {
  title: string;
  visibility: Visibility;
}

/** Uploads listed on one page of `/`. */
export const PAGE_SIZE = 50;

const views = new Eta({ views: path.join(APP_DIR, "views"), cache: process.env.NODE_ENV === "production" });

/**
 * The Express app: upload form, list of uploads, delete, and local media and static files when
 * storages are on disk. Pages link static files through `staticFiles`, by their hashed names.
 */
export function createApp(dataSource: DataSource, config: AppConfig, staticFiles: StaticManifest): express.Express {
  const uploads = dataSource.getRepository(Upload);
  const app = express();
  app.disable("x-powered-by");
  // The app's own origins (APP_ORIGIN, by default http://127.0.0.1:<PORT> and http://localhost:<PORT>).
  const origins = () => config.origins ?? [];
  // DNS rebinding: another site's name pointed at this address reaches the app under that name as
  // Host, and its pages post with an Origin matching that Host. Only the app's own names are served.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const host = req.get("host")?.toLowerCase();
    if (host !== undefined && origins().some((origin) => new URL(origin).host === host)) next();
    else res.status(400).type("text").send("Bad request: unknown Host. List the app's address in APP_ORIGIN.");
  });
  // A minimal CSRF guard for an app without sessions: browsers send Origin with every POST, and it
  // must be one of the app's origins ("null", from sandboxed frames, is not).
  const sameOrigin = (req: Request, res: Response, next: NextFunction) => {
    const origin = req.get("origin");
    if (origin === undefined || origins().includes(origin)) next();
    else res.status(403).type("text").send("Forbidden: cross-site form submission.");
  };

  // On local disk the files are served by the package's middleware: public media and static files
  // plainly, private ones only with a valid, unexpired signature. On S3 the URLs point at the bucket.
  // Hashed static copies never change, so browsers may keep them for a year.
  for (const name of ["default", "private", "staticfiles"]) {
    const storage = storages.get(name);
    const options = name === "staticfiles" ? { maxAgeSecondsCached: 365 * 24 * 3600 } : {};
    if (storage instanceof FileSystemStorage) app.use(serveFiles(storage, options));
  }

  // The app's own pages (the files serveFiles answered above do not get these): no framing (one click
  // deletes), no sniffing, no caching of pages listing signed links, scripts only the hashed
  // direct-upload.js (never anything under /media/, where users put .js files), and styles, images and
  // uploads only from this site or the origins of the storages the pages link to and upload to.
  const sources = new Set<string>(["'self'"]);
  for (const name of ["default", "private", "staticfiles"]) {
    const url = storages.get(name).url("csp-probe");
    if (/^https?:\/\//i.test(url)) sources.add(new URL(url).origin);
  }
  const allowed = [...sources].join(" ");
  app.use((req: Request, res: Response, next: NextFunction) => {
    // the origin of the app's this request came through (its Host was checked above)
    const self = origins().find((origin) => new URL(origin).host === req.get("host")?.toLowerCase());
    const script = new URL(staticFiles.url("direct-upload.js"), `${self}/`).href;
    res.set({
      "Content-Security-Policy":
        `default-src 'none'; script-src ${script}; style-src ${allowed}; img-src ${allowed}; ` +
        `connect-src ${allowed}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
      "X-Content-Type-Options": "nosniff",
      "X-Frame-Options": "DENY",
      "Referrer-Policy": "same-origin",
      "Cache-Control": "no-store",
    });
    next();
  });

  const render = (res: Response, status: number, view: string, data: object) =>
    res
      .status(status)
      .type("html")
      .send(views.render(view, { ...data, formatBytes, asset: (name: string) => staticFiles.url(name) }));
  const renderForm = (
    res: Response,
    status: number,
    error: string | null,
    values: Partial<FormValues> = {},
    direct = false,
  ) =>
    render(res, status, "upload", {
      error,
      values: { title: values.title ?? "", visibility: values.visibility ?? "public" },
      maxBytes: config.maxUploadBytes,
      direct,
    });

  const notFound = (res: Response) =>
    render(res, 404, "message", { title: "Not found", message: "There is no page at this address." });

  // The newest uploads first, PAGE_SIZE a page (`/?page=2`): a page costs one query, and rendering
  // `file.url` signs locally (no storage request), however many rows the table holds.
  app.get("/", async (req, res) => {
    const raw = req.query.page ?? "1";
    const page = typeof raw === "string" && /^[1-9]\d{0,8}$/.test(raw) ? Number(raw) : null;
    if (page === null) return notFound(res);
    const rows = await uploads.find({
      order: { createdAt: "DESC", id: "DESC" },
      skip: (page - 1) * PAGE_SIZE,
      take: PAGE_SIZE + 1,
    });
    render(res, 200, "list", {
      uploads: rows.slice(0, PAGE_SIZE),
      page,
      newer: page > 1 ? page - 1 : null,
      older: rows.length > PAGE_SIZE ? page + 1 : null,
    });
  });

  app.get("/upload", (_req, res) => {
    renderForm(res, 200, null);
  });

  app.post("/upload", sameOrigin, async (req, res) => {
    let values: Partial<FormValues> = {};
    try {
      const received = await receiveUpload(req, config.maxUploadBytes, async (fields, file) => {
        values = readLoose(fields);
        return storeUpload(uploads.create(), readForm(fields), file, config.maxUploadBytes);
      });
      values = readLoose(received.fields);
      if (received.stored === undefined) {
        readForm(received.fields);
        throw new UploadError(400, "Choose a file to upload.");
      }
      res.redirect(303, `/#upload-${received.stored.id}`);
    } catch (error) {
      if (!(error instanceof UploadError)) throw error;
      renderForm(res, error.status, error.message, values);
    }
  });

  // Direct uploads (public/direct-upload.js): the app signs, the browser sends the bytes to the storage.
  app.get("/upload/direct", (_req, res) => {
    renderForm(res, 200, null, {}, true);
  });

  const json = express.json({ limit: "16kb" });
  const replyError = (res: Response, error: unknown) => {
    if (error instanceof UploadError) return res.status(error.status).json({ error: error.message });
    if (error instanceof FileValidationError || error instanceof InvalidKeyError)
      return res.status(400).json({ error: error.message });
    throw error;
  };

  app.post("/uploads/direct", sameOrigin, json, async (req, res) => {
    try {
      const values = readForm(req.body ?? {});
      const { filename, size } = req.body;
      if (typeof filename !== "string" || !filename) throw new UploadError(400, "Choose a file to upload.");
      refuseNul(filename, "The file name");
      if (!Number.isSafeInteger(size) || size < 0) throw new UploadError(400, "The file's size is missing.");
      if (size === 0) throw new UploadError(400, `"${filename}" is empty (0 bytes); choose a file with some content.`);
      if (size > config.maxUploadBytes) throw new UploadError(413, tooLargeMessage(config.maxUploadBytes));
      const name = cleanName(filename);
      const row = uploads.create(values);
      // as for uploads through the app, the type comes from the cleaned name, never from the browser
      const contentType = lookup(name) || "application/octet-stream";
      // on S3, files over one part go in parts (sent in parallel, each retried alone); disk takes any size
      const upload =
        size > config.partSize && row.file.storage instanceof S3Storage
          ? await row.file.createMultipartUpload(name, { size, contentType, partSize: config.partSize })
          : await row.file.createUpload(name, { size, contentType });
      res.json({ upload });
    } catch (error) {
      replyError(res, error);
    }
  });

  app.post("/uploads/direct/complete", sameOrigin, json, async (req, res) => {
    try {
      const values = readForm(req.body ?? {});
      const { ticket, originalName, parts } = req.body;
      if (typeof ticket !== "string") throw new UploadError(400, "The upload ticket is missing.");
      if (typeof originalName === "string") refuseNul(originalName, "The file name");
      // the size and type the app signed, which attachUpload checks against the file that arrived
      const { size, contentType } = verifyUploadTicket(ticket);
      const row = uploads.create({
        ...values,
        originalName: typeof originalName === "string" ? originalName.slice(0, 255) : "",
        size,
        contentType,
      });
      await row.file.attachUpload(ticket, Array.isArray(parts) ? { parts } : {});
      res.json({ id: row.id });
    } catch (error) {
      replyError(res, error);
    }
  });

  app.post("/uploads/:id/delete", sameOrigin, async (req, res) => {
    const upload = await uploads.findOneBy({ id: Number(req.params.id) || 0 });
    // The subscriber deletes the object once the row's removal has committed.
    if (upload) await uploads.remove(upload);
    res.redirect(303, "/");
  });

  app.use((_req: Request, res: Response) => {
    notFound(res);
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { type, status, expose, message } = error as {
      type?: string;
      status?: number;
      expose?: boolean;
      message?: string;
    };
    if (type === "entity.parse.failed") {
      res.status(400).json({ error: "The request's JSON is malformed." });
      return;
    }
    // the JSON endpoints' other client errors (body-parser's: 413 over 16 KiB, 415 an unsupported
    // charset or encoding, 400 a body shorter than announced...) say what went wrong, with their status
    if (expose === true && Number.isInteger(status) && (status as number) >= 400 && (status as number) < 500) {
      const reason = type === "entity.too.large" ? "The request's body is larger than 16 KiB." : message;
      res.status(status as number).json({ error: reason || "The request was refused." });
      return;
    }
    console.error(error);
    render(res, 500, "message", { title: "Something went wrong", message: "The server could not finish the request." });
  });
  return app;
}

/**
 * Streams the file into the row's field and inserts the row. The name is cleaned first (Django's
 * `get_valid_filename`); the content type comes from that name, never from the browser's claim; an
 * empty file is refused before anything is written; over the limit the upload is aborted mid-stream.
 */
async function storeUpload(upload: Upload, values: FormValues, file: IncomingFile, maxBytes: number): Promise<Upload> {
  refuseNul(file.filename, "The file name");
  const name = cleanName(file.filename);
  if ((await peekFirstChunk(file.stream)) === null) {
    throw new UploadError(400, `"${file.filename}" is empty (0 bytes); choose a file with some content.`);
  }
  const contentType = lookup(name) || "application/octet-stream";
  // the column is varchar(255), as on the direct path
  Object.assign(upload, { ...values, originalName: file.filename.slice(0, 255), contentType, size: 0 });
  // FieldFile.save reads the stream to its end before it writes the row, so the size is set by then.
  const body = new ByteCounter(
    file.stream,
    (bytes) => {
      upload.size = bytes;
    },
    () => new UploadError(413, tooLargeMessage(maxBytes)),
  );
  file.stream.pipe(body);
  file.stream.once("error", (error) => body.destroy(error)); // pipe() does not forward source errors
  await upload.file.save(name, body, { contentType, signal: file.signal });
  return upload;
}

/** The browser's filename, cleaned (Django's `get_valid_filename`); throws `UploadError` when nothing is left. */
function cleanName(filename: string): string {
  try {
    return getValidName(filename);
  } catch (error) {
    if (!(error instanceof InvalidKeyError)) throw error;
    throw new UploadError(400, `The file name "${filename}" has no usable characters; rename the file and retry.`);
  }
}

/** The form's fields, validated; throws `UploadError` with what to fix. */
function readForm(fields: Record<string, string>): FormValues {
  const { title, visibility } = readLoose(fields);
  if (!title) throw new UploadError(400, "Give the upload a title.");
  refuseNul(title, "The title");
  if (title.length > 200) throw new UploadError(400, "Keep the title under 200 characters.");
  if (visibility !== "public" && visibility !== "private") {
    throw new UploadError(400, "Choose whether the file is public or private.");
  }
  return { title, visibility };
}

/**
 * Throws `UploadError` (400) when `value` holds a NUL character: PostgreSQL refuses it in text, which
 * was a 500, and no title or file name needs one.
 */
function refuseNul(value: string, what: string): void {
  if (value.includes("\0")) throw new UploadError(400, `${what} contains a NUL character; remove it and retry.`);
}

function readLoose(fields: Record<string, string>): Partial<FormValues> {
  const visibility = fields.visibility === "private" || fields.visibility === "public" ? fields.visibility : undefined;
  // JSON bodies (direct uploads) may hold anything
  return { title: typeof fields.title === "string" ? fields.title.trim() : "", visibility };
}

import type { IncomingMessage, ServerResponse } from "node:http";
import { PassThrough } from "node:stream";
import { guessContentType } from "../content/guessContentType";
import type { FileSystemDriver } from "../drivers/fs/FileSystemDriver";
import { StorageConfigError } from "../errors/StorageConfigError";
import { encodeKeyPath } from "./encodeKeyPath";
import { REFUSALS, reply } from "./reply";

/**
 * A direct upload (`Storage.createUpload`): a PUT whose URL is signed for exactly this key and byte
 * count. The body is streamed to a temp file and given its name only when complete; a taken name is a
 * 412 unless the URL allows overwriting. The file's type is the one its name gives, as for any file
 * this storage serves.
 */
export async function receiveUpload(
  driver: FileSystemDriver,
  req: IncomingMessage,
  res: ServerResponse,
  key: string,
  query: string,
): Promise<void> {
  // Every refusal closes the connection rather than read a body it does not want.
  res.setHeader("Connection", "close");
  const signer = driver.signer;
  const check = signer?.verify(driver.basePath + encodeKeyPath(key), query) ?? null;
  if (check === null || !check.valid || check.upload === null) {
    const why = check === null || check.valid ? "missing" : check.reason;
    return reply(req, res, 403, why === "missing" ? "Forbidden: uploads need a signed upload URL." : REFUSALS[why]);
  }
  const { size, overwrite } = check.upload;
  const declared = req.headers["content-length"];
  if (declared === undefined || req.headers["transfer-encoding"] !== undefined)
    return reply(req, res, 411, `Length Required: send the ${size} bytes with a Content-Length.`);
  if (declared !== String(size))
    return reply(req, res, 400, `Bad Request: this URL takes exactly ${size} bytes, not ${declared}.`);
  // A body parser mounted before serveFiles (express.json() for a .json file, express.text(), ...) has
  // read the body already: nothing is left to store, and the request would be taken for one whose client
  // left (the connection dropped without a word). Say so, to the app's error handler.
  if (req.readableEnded) {
    throw new StorageConfigError(
      "serveFiles() received a direct upload whose body another middleware had already read (a body parser " +
        "such as express.json() or express.text()): mount serveFiles() before body parsers.",
      { key },
    );
  }
  const taken = () => reply(req, res, 412, "Precondition Failed: a file already exists under this name.");
  // before reading the body; the write below makes sure of it atomically
  if (!overwrite && (await driver.stat(key)) !== null) return taken();
  // The client may have hung up during that await: its "aborted" has fired already, and a destroyed
  // request never ends a pipe, so the write would wait forever with its temp file open. That holds
  // even when every byte had arrived (Node drops the buffered body): nobody is left to answer.
  if (req.destroyed) return void res.destroy();
  // The driver reads a stream of its own: when it gives up early (a file where a directory must be),
  // it destroys that stream, not the request's socket, which must still carry the answer.
  const body = new PassThrough();
  let clientGone = false;
  const gone = (error?: Error) => {
    clientGone = true;
    body.destroy(error ?? new Error("The client went away."));
  };
  req.once("aborted", () => gone());
  req.once("error", gone);
  // a request closed before its end was read is gone too, "aborted" or not
  req.once("close", () => {
    if (!req.readableEnded) gone();
  });
  req.pipe(body);
  try {
    await driver.write(
      key,
      { kind: "stream", stream: body, length: size },
      {
        contentType: guessContentType(key),
        contentDisposition: null,
        overwrite,
        alternativeKey: () => {
          throw new NameTakenError();
        },
      },
    );
  } catch (error) {
    if (error instanceof NameTakenError) return taken();
    // the client went away, or sent fewer bytes than it announced: nothing was kept, nobody to answer
    if (clientGone) return void res.destroy();
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code === "ENOTDIR" || code === "EISDIR" || code === "EEXIST")
      return reply(req, res, 409, "Conflict: a directory or a file stands where this name needs the other.");
    if (code === "ENAMETOOLONG") return reply(req, res, 400, "Bad Request: the name is too long for the disk.");
    throw error;
  }
  res.removeHeader("Connection");
  res.setHeader("Cache-Control", "no-store");
  return reply(req, res, 200, "Uploaded.");
}

/** Thrown from `alternativeKey` to stop a direct upload whose name turned out to be taken. */
class NameTakenError extends Error {}

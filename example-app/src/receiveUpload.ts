import type { IncomingMessage } from "node:http";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import busboy from "busboy";
import { UploadError } from "./UploadError";

/** The file part of a multipart upload, as a stream that has not been read yet. */
export interface IncomingFile {
  /** The filename the browser sent (untrusted: clean it before use). */
  filename: string;
  stream: Readable & { truncated?: boolean };
  /** Aborted with a 413 `UploadError` when the file goes over the limit. */
  signal: AbortSignal;
}

/** What `receiveUpload` resolves with: the text fields, and the store callback's result (none without a file). */
export interface ReceivedUpload<T> {
  fields: Record<string, string>;
  stored: T | undefined;
}

export const tooLargeMessage = (maxBytes: number) =>
  `The file is larger than the limit of ${formatBytes(maxBytes)}; nothing was stored.`;

/**
 * Parses a `multipart/form-data` request as a stream. The text fields that come before the file (the
 * form puts the file input last) are passed to `store` with the file's stream, which `store` should
 * pipe to its destination: nothing is buffered beyond busboy's chunks. Over `maxBytes` the file's
 * signal aborts with a 413 `UploadError`, and the stream errors at its end as a second line of defence.
 * Resolves once the whole request has been read, so an error page never races the browser's upload.
 * Rejects with `UploadError` for a malformed request, or with what `store` threw.
 */
export function receiveUpload<T>(
  req: IncomingMessage,
  maxBytes: number,
  store: (fields: Record<string, string>, file: IncomingFile) => Promise<T>,
): Promise<ReceivedUpload<T>> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defParamCharset: "utf8",
        // Busboy marks a file as truncated when it reaches the limit, so a file of exactly maxBytes
        // would be refused: allow one byte more, and its "limit" event means "over maxBytes".
        limits: { fileSize: maxBytes + 1, files: 1, fields: 20, fieldSize: 16 * 1024, parts: 25 },
      });
    } catch {
      reject(new UploadError(400, "Send the form as multipart/form-data."));
      return;
    }
    const fields: Record<string, string> = {};
    const controller = new AbortController();
    let storing: Promise<T> | undefined;
    let failed = false;

    // A malformed body or a client that goes away mid-upload: abort the store (the storage removes
    // its partial file or multipart upload), then reject once it has settled.
    const fail = (message: string) => {
      if (failed) return;
      failed = true;
      controller.abort(new UploadError(400, message));
      req.unpipe(parser);
      req.resume();
      const settled = storing ?? Promise.resolve();
      settled.then(
        () => reject(controller.signal.reason),
        () => reject(controller.signal.reason),
      );
    };

    parser.on("field", (name, value) => {
      fields[name] = value;
    });
    parser.on("file", (name, stream, info) => {
      // A form submitted without a chosen file still sends an empty part with filename "".
      if (name !== "file" || storing !== undefined || !info.filename) {
        stream.resume();
        return;
      }
      stream.on("limit", () => controller.abort(new UploadError(413, tooLargeMessage(maxBytes))));
      stream.on("error", () => fail("The upload was interrupted; nothing was stored."));
      storing = store({ ...fields }, { filename: info.filename, stream, signal: controller.signal })
        .catch((error: unknown) => {
          throw controller.signal.aborted ? controller.signal.reason : error;
        })
        // Busboy only finishes once every file stream has ended: drain whatever the store left unread.
        .finally(() => stream.resume());
      storing.catch(() => undefined); // handled on "close" or in fail()
    });
    parser.on("error", () => fail("The upload was malformed or interrupted; nothing was stored."));
    req.on("close", () => {
      if (!req.complete) fail("The upload was interrupted; nothing was stored.");
    });
    parser.on("close", () => {
      if (failed) return;
      if (storing === undefined) resolve({ fields, stored: undefined });
      else storing.then((stored) => resolve({ fields, stored }), reject);
    });
    req.pipe(parser);
  });
}

/**
 * Resolves with the stream's first chunk without losing it (it is unshifted back), or with null when
 * the stream ends empty: an empty upload is refused before anything is written.
 */
export function peekFirstChunk(stream: Readable): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const settle = (finish: () => void) => {
      stream.off("readable", onReadable);
      stream.off("end", onEnd);
      stream.off("error", onError);
      finish();
    };
    const onReadable = () => {
      const chunk: Buffer | null = stream.read();
      if (chunk !== null) {
        settle(() => {
          stream.unshift(chunk);
          resolve(chunk);
        });
      }
    };
    const onEnd = () => settle(() => resolve(null));
    const onError = (error: Error) => settle(() => reject(error));
    stream.on("readable", onReadable);
    stream.on("end", onEnd);
    stream.on("error", onError);
  });
}

/**
 * Passes bytes through and counts them. At the end it errors when busboy truncated the source (over
 * the limit), so a storage never completes a cut-off file, and otherwise reports the total.
 */
export class ByteCounter extends Transform {
  #bytes = 0;

  constructor(
    private readonly source: { truncated?: boolean },
    private readonly onEnd: (bytes: number) => void,
    private readonly tooLarge: () => Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.source.truncated) {
      callback(this.tooLarge());
      return;
    }
    this.onEnd(this.#bytes);
    callback();
  }
}

/** "1.5 MiB", "12 KiB", "300 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? "byte" : "bytes"}`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

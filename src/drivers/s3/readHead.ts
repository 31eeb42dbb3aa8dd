import { Readable } from "node:stream";

/** The first bytes of a stream, and the rest of it when there is more. */
export interface StreamHead {
  /** What was read: all of the stream when `rest` is null. */
  head: Buffer[];
  headLength: number;
  /** A stream of the head followed by the remaining bytes, or null when the stream ended early. */
  rest: Readable | null;
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  return Object.assign(new Error("The operation was aborted."), { name: "AbortError", cause: reason });
}

/**
 * Reads `stream` until at least `limit` bytes or its end, so a short stream of unknown length can go
 * in one PutObject with a Buffer. When more follows, `rest` replays the head and then the remainder
 * (backpressure kept). `onBytes` sees every byte exactly once; an abort of `signal` destroys the
 * source, so readers of `rest` fail with the abort reason.
 */
export async function readHead(
  stream: Readable,
  limit: number,
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): Promise<StreamHead> {
  const onAbort = () => stream.destroy(abortError(signal as AbortSignal));
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  const iterator = stream[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  try {
    while (headLength < limit) {
      const next = await iterator.next();
      if (next.done) {
        signal?.removeEventListener("abort", onAbort);
        return { head, headLength, rest: null };
      }
      const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
      head.push(chunk);
      headLength += chunk.length;
      onBytes(chunk.length);
    }
  } catch (error) {
    signal?.removeEventListener("abort", onAbort);
    throw error;
  }
  async function* replay(): AsyncGenerator<Buffer> {
    try {
      yield* head;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
        onBytes(chunk.length);
        yield chunk;
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }
  return { head, headLength, rest: Readable.from(replay(), { objectMode: false }) };
}

/** Reads all of `stream` into one Buffer, failing with the abort reason when `signal` fires. */
export async function readAll(stream: Readable, onBytes: (n: number) => void, signal?: AbortSignal): Promise<Buffer> {
  const { head } = await readHead(stream, Number.POSITIVE_INFINITY, onBytes, signal);
  return Buffer.concat(head);
}

export { abortError };

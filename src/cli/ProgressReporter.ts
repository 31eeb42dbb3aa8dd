import type { SyncMetadataProgress } from "../storage/syncMetadata";
import type { CliStream } from "./CliIo";

/** Redraws of the bar on a terminal are at least this far apart (ms). */
const REDRAW_MS = 100;

/**
 * Shows sync progress on stderr: a bar redrawn in place on a terminal, or a plain line every
 * `intervalMs` (default 10 s) when stderr is a file or a pipe, so CI logs stay readable. Hand-written
 * rather than a dependency such as cli-progress: it is one line of text, and the package keeps its
 * runtime dependencies to what storing files needs.
 */
export class ProgressReporter {
  readonly #stream: CliStream;
  readonly #tty: boolean;
  readonly #label: string;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #started: number;
  #lastOutput: number;
  #drawn = false;
  #latest: SyncMetadataProgress | null = null;

  constructor(stream: CliStream, options: { label: string; intervalMs?: number; now?: () => number }) {
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
    this.#label = options.label;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#started = this.#now();
    this.#lastOutput = this.#started;
  }

  /** Records the latest counts and shows them when the redraw interval has passed. */
  update(progress: SyncMetadataProgress): void {
    this.#latest = progress;
    const now = this.#now();
    if (now - this.#lastOutput < (this.#tty ? REDRAW_MS : this.#intervalMs)) return;
    this.#lastOutput = now;
    if (this.#tty) this.#draw();
    else this.#stream.write(`${this.#label}: ${this.#text(progress)}\n`);
  }

  /** Erases the bar, so a line can be written to the same terminal; the next update redraws it. */
  clear(): void {
    if (!this.#drawn) return;
    this.#stream.write("\r\x1b[2K");
    this.#drawn = false;
  }

  /** Erases the bar for good (the summary follows). */
  finish(): void {
    this.clear();
  }

  #text(p: SyncMetadataProgress): string {
    const total = p.listingComplete ? `${p.listed}` : `${p.listed}+`;
    const seconds = Math.max((this.#now() - this.#started) / 1000, 0.001);
    const rate = Math.round(p.examined / seconds);
    const counts = [`${p.updated} updated`, `${p.unchanged} unchanged`];
    if (p.missing > 0) counts.push(`${p.missing} missing`);
    counts.push(`${p.failed} failed`);
    return `${p.examined}/${total} examined (${counts.join(", ")}), ${rate}/s`;
  }

  #draw(): void {
    const p = this.#latest;
    if (p === null) return;
    const text = this.#text(p);
    let bar = "";
    if (p.listingComplete && p.listed > 0) {
      const width = Math.max(10, Math.min(30, (this.#stream.columns ?? 80) - text.length - this.#label.length - 10));
      const done = Math.round((p.examined / p.listed) * width);
      const percent = Math.floor((p.examined / p.listed) * 100);
      bar = `[${"#".repeat(done)}${"-".repeat(width - done)}] ${String(percent).padStart(3)}% `;
    }
    this.#stream.write(`\r\x1b[2K${this.#label} ${bar}${text}`);
    this.#drawn = true;
  }
}

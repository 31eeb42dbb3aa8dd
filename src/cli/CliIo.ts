/** An output stream as the CLI sees it: stderr may be a terminal (progress bar) or a pipe (plain lines). */
export interface CliStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** What a command may touch of its process, so tests can run commands in-process. */
export interface CliIo {
  stdout: CliStream;
  stderr: CliStream;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborted on Ctrl-C: commands stop starting work and report (collectstatic also cancels its uploads in flight). */
  signal?: AbortSignal;
}

import type { BenchConfig } from "./config";
import type { S3Target } from "./s3Target";

/** Which side of a figure a process measures: the library, or the same job done with the raw AWS SDK. */
export type BenchPath = "lib" | "raw";

/** What one process measured for one figure in one round. */
export interface Measurement {
  /** The figure's value in its unit (µs per URL, ops/s, MB/s, MiB, ms or s). */
  value: number;
  /** HTTP requests sent per operation (SDK middleware, once per attempt); absent where nothing is sent. */
  requestsPerOp?: number;
  /** Client CPU per operation in milliseconds (user + system of the measuring process). */
  clientCpuMs?: number;
  /** CPU the S3 server used per operation in milliseconds, when the bench started it (read from /proc). */
  serverCpuMs?: number;
  /** Anything else worth keeping in the JSON (e.g. the RSS before a streaming operation started). */
  extra?: Record<string, number>;
}

/** A figure's summary over every round, as the report and the targets see it. */
export interface FigureSummary {
  figure: FigureDefinition;
  lib: number[];
  raw: number[];
  /** Per round: how many times better the library did (lib/raw for "higher", raw/lib for "lower"). */
  advantage: number[];
  libRequests: number | null;
  rawRequests: number | null;
  /** The most requests per operation the library path sent in any one round (null when not counted). */
  libRequestsMax: number | null;
}

/** A target from the issue, checked against a figure's summary (and, for RSS, its sibling figures). */
export interface Target {
  /** What the table prints, e.g. "≥ 60×". */
  text: string;
  met(summary: FigureSummary, all: ReadonlyMap<string, FigureSummary>): boolean;
}

/** One line of the table: the library path against its raw-SDK counterpart. */
export interface FigureDefinition {
  id: string;
  label: string;
  unit: "µs" | "ms" | "s" | "ops/s" | "MB/s" | "MiB";
  better: "higher" | "lower";
  /** What each path runs, for the table's legend. */
  lib: string;
  raw: string;
  target?: Target;
}

/** What a measuring process gets: one phase of one group, for one path, in one round. */
export interface TaskContext {
  target: S3Target;
  config: BenchConfig;
  path: BenchPath;
  round: number;
  /** JSON-safe values the group's `beforeAll` prepared (e.g. the generated file's MD5). */
  params: Record<string, unknown>;
}

/** What the orchestrator passes to a group's parent-side hooks. */
export interface GroupContext {
  target: S3Target;
  config: BenchConfig;
}

/**
 * Figures measured together. `measure` runs in a child process, once per phase, path and round; the
 * optional hooks run in the orchestrator around the rounds (setting up shared objects, cleaning up).
 */
export interface FigureGroup {
  name: string;
  figures: FigureDefinition[];
  /** Phases per round, each run for both paths before the next (e.g. save, then read what was saved). */
  phases: string[];
  rounds(config: BenchConfig): number;
  beforeAll?(context: GroupContext): Promise<Record<string, unknown>>;
  afterRound?(context: GroupContext, round: number): Promise<void>;
  afterAll?(context: GroupContext): Promise<void>;
  measure(phase: string, task: TaskContext): Promise<Record<string, Measurement>>;
}

import type { FigureDefinition, FigureSummary, Measurement } from "./figure";

/** Median, minimum and maximum of a non-empty list. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** The median (mean of the middle two for an even count), minimum and maximum of `values`. */
export function spread(values: number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

/** How many times better the library did in one round: lib/raw for "higher", raw/lib for "lower". */
export function advantage(figure: FigureDefinition, lib: number, raw: number): number {
  return figure.better === "higher" ? lib / raw : raw / lib;
}

/** The median requests per op of a path over its rounds (they should all agree), or null when not counted. */
function requests(rounds: Measurement[]): number | null {
  const counted = rounds.map((m) => m.requestsPerOp).filter((n): n is number => n !== undefined);
  return counted.length ? spread(counted).median : null;
}

/** The most requests per op of a path in any round, or null when not counted. */
function mostRequests(rounds: Measurement[]): number | null {
  const counted = rounds.map((m) => m.requestsPerOp).filter((n): n is number => n !== undefined);
  return counted.length ? Math.max(...counted) : null;
}

/** Pairs the rounds of both paths (round i of lib with round i of raw) into a figure summary. */
export function summarize(figure: FigureDefinition, lib: Measurement[], raw: Measurement[]): FigureSummary {
  const rounds = Math.min(lib.length, raw.length);
  const libValues = lib.map((m) => m.value);
  const rawValues = raw.map((m) => m.value);
  return {
    figure,
    lib: libValues,
    raw: rawValues,
    advantage: Array.from({ length: rounds }, (_, i) => advantage(figure, libValues[i], rawValues[i])),
    libRequests: requests(lib),
    rawRequests: requests(raw),
    libRequestsMax: mostRequests(lib),
  };
}

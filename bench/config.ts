import path from "node:path";

const MiB = 1024 * 1024;

/** Sizes and rounds of one benchmark run (JSON-safe: children receive it as is). */
export interface BenchConfig {
  quick: boolean;
  /** Rounds of every figure but the large streams (each round runs both paths, the first alternating). */
  rounds: number;
  /** Rounds of the streaming figures. */
  streamRounds: number;
  /** Group names to run (all when null). */
  only: string[] | null;
  /** Where the JSON results go. */
  out: string;
  /** Seconds each URL figure loops for, per path and round (the per-URL cost is total time / calls). */
  urlSeconds: number;
  hydrationRows: number;
  smallFiles: number;
  smallFileBytes: number;
  /** Concurrency of the concurrent save figures ("the concurrency a user would use"). */
  concurrency: number;
  listKeys: number;
  /** Bytes of each streamed file, smallest first. */
  streamSizes: number[];
}

export const USAGE = `npm run bench -- [--quick] [--rounds N] [--stream-rounds N] [--only GROUPS] [--out FILE]

  --quick            small sizes and one round: proves the benchmark runs (CI)
  --rounds N         rounds per figure (default 7; quick 1)
  --stream-rounds N  rounds of the 256 MiB and 2 GiB streaming figures (default: --rounds)
  --only GROUPS      comma-separated groups: urls, hydration, small-objects, listing, stream-<size>
  --out FILE         JSON results (default .tmp/bench/results.json, quick: .tmp/bench/results-quick.json)

Uses S3_ENDPOINT with S3_ACCESS_KEY/S3_SECRET_KEY (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and
S3_BUCKET when set; otherwise starts its own s3rver in a separate process.`;

function positiveInteger(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} takes a positive integer, not ${JSON.stringify(value)}.`);
  return n;
}

/** Builds the run's configuration from command-line flags; throws with the usage on a bad flag. */
export function parseArgs(argv: string[]): BenchConfig {
  let quick = false;
  let rounds: number | undefined;
  let streamRounds: number | undefined;
  let only: string[] | null = null;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--quick") quick = true;
    else if (flag === "--rounds") rounds = positiveInteger(flag, argv[++i]);
    else if (flag === "--stream-rounds") streamRounds = positiveInteger(flag, argv[++i]);
    else if (flag === "--only") only = (argv[++i] ?? "").split(",").filter(Boolean);
    else if (flag === "--out") out = argv[++i];
    else throw new Error(`Unknown flag ${JSON.stringify(flag)}.\n\n${USAGE}`);
  }
  rounds ??= quick ? 1 : 7;
  const sizes = quick
    ? { urlSeconds: 0.05, hydrationRows: 1_000, smallFiles: 40, listKeys: 300 }
    : { urlSeconds: 1, hydrationRows: 10_000, smallFiles: 500, listKeys: 2_000 };
  return {
    quick,
    rounds,
    streamRounds: streamRounds ?? rounds,
    only,
    out: path.resolve(out ?? `.tmp/bench/results${quick ? "-quick" : ""}.json`),
    ...sizes,
    smallFileBytes: 10 * 1024,
    concurrency: 8,
    streamSizes: quick ? [16 * MiB, 24 * MiB] : [256 * MiB, 2048 * MiB],
  };
}

/** `256MiB`, `2GiB`: the size as figure ids and group names spell it. */
export function sizeLabel(bytes: number): string {
  return bytes >= 1024 * MiB && bytes % (1024 * MiB) === 0 ? `${bytes / (1024 * MiB)}GiB` : `${bytes / MiB}MiB`;
}

/**
 * `npm run bench`: every figure of issue #5 as a ratio against the raw AWS SDK, measured in the same
 * run. For each group and round, each phase runs the library path and the raw path in fresh child
 * processes, the one going first alternating by round; the S3 server runs in yet another process.
 * Prints a Markdown table and writes the JSON (docs/benchmarks.md explains both). Timings never fail
 * the run; a wrong byte count, a missing object or a crash does.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type BenchConfig, parseArgs, USAGE } from "./config";
import type { BenchPath, FigureGroup, FigureSummary, GroupContext, Measurement } from "./figure";
import { allGroups } from "./groups";
import { machineInfo } from "./machine";
import { legendTable, resultsTable, targetResults } from "./report";
import { runChild } from "./runChild";
import { openTarget } from "./s3Target";
import { summarize } from "./stats";

/** Per figure id, each path's measurement of every round, in round order. */
type Collected = Map<string, Record<BenchPath, Measurement[]>>;

const log = (message: string) => process.stderr.write(`${message}\n`);

async function runGroup(group: FigureGroup, context: GroupContext, collected: Collected): Promise<void> {
  const rounds = group.rounds(context.config);
  const shared = (await group.beforeAll?.(context)) ?? {};
  try {
    for (let round = 1; round <= rounds; round++) {
      const order: BenchPath[] = round % 2 === 1 ? ["lib", "raw"] : ["raw", "lib"];
      for (const phase of group.phases) {
        for (const path of order) {
          const started = Date.now();
          const measurements = await runChild({ group: group.name, phase, path, round, params: shared, ...context });
          for (const [id, m] of Object.entries(measurements)) {
            const entry = collected.get(id) ?? { lib: [], raw: [] };
            entry[path].push(m);
            collected.set(id, entry);
          }
          log(
            `[${group.name}] round ${round}/${rounds} ${phase} ${path}: ${((Date.now() - started) / 1000).toFixed(1)} s`,
          );
        }
      }
      await group.afterRound?.(context, round);
    }
  } finally {
    await group.afterAll?.(context);
  }
}

function selectGroups(config: BenchConfig): FigureGroup[] {
  const groups = allGroups(config);
  if (config.only === null) return groups;
  const unknown = config.only.filter((name) => !groups.some((g) => g.name === name));
  if (unknown.length) {
    throw new Error(`Unknown group(s) ${unknown.join(", ")}; groups: ${groups.map((g) => g.name).join(", ")}.`);
  }
  return groups.filter((g) => config.only?.includes(g.name));
}

async function main(): Promise<void> {
  const config = parseArgs(process.argv.slice(2));
  const groups = selectGroups(config);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const startedAt = new Date();
  const machineBefore = machineInfo();
  const opened = await openTarget(path.resolve(".tmp/bench"));
  const collected: Collected = new Map();
  try {
    for (const group of groups) await runGroup(group, { target: opened.target, config }, collected);
  } finally {
    await opened.close();
  }
  const summaries: FigureSummary[] = groups.flatMap((g) =>
    g.figures.map((f) => summarize(f, collected.get(f.id)?.lib ?? [], collected.get(f.id)?.raw ?? [])),
  );
  const seconds = (Date.now() - startedAt.getTime()) / 1000;
  const table = resultsTable(summaries);
  const met = targetResults(summaries);
  console.log(`\n${table}\n\n${legendTable(summaries)}\n`);
  console.log(
    `${[...met.values()].filter(Boolean).length} of ${met.size} targets met; ${(seconds / 60).toFixed(1)} min; ` +
      `results in ${path.relative(process.cwd(), config.out)}`,
  );
  mkdirSync(path.dirname(config.out), { recursive: true });
  writeFileSync(
    config.out,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        seconds,
        command: `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim(),
        machine: { ...machineBefore, loadAverageAfter: machineInfo().loadAverage },
        server: opened.target.description,
        config,
        figures: summaries.map((s) => ({
          ...s.figure,
          target: s.figure.target?.text ?? null,
          met: met.get(s.figure.id) ?? null,
          rounds: collected.get(s.figure.id) ?? { lib: [], raw: [] },
          advantage: s.advantage,
          requestsPerOp: { lib: s.libRequests, raw: s.rawRequests },
        })),
        table,
      },
      null,
      2,
    )}\n`,
  );
}

if (process.argv.includes("--help")) console.log(USAGE);
else {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}

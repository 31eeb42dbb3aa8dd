/**
 * Child-process entry: measures one phase of one figure group for one path and reports the
 * measurements over IPC. Each path runs in a fresh process, so neither inherits the other's warm JIT,
 * heap or sockets, and peak RSS belongs to that path alone. Both paths load TypeORM, as the
 * application being compared (a TypeORM app with or without this library) does.
 */
import "reflect-metadata";
import "typeorm";
import type { BenchConfig } from "./config";
import type { BenchPath, Measurement } from "./figure";
import { allGroups } from "./groups";
import type { S3Target } from "./s3Target";

/** What the orchestrator sends. */
export interface ChildTask {
  group: string;
  phase: string;
  path: BenchPath;
  round: number;
  params: Record<string, unknown>;
  target: S3Target;
  config: BenchConfig;
}

/** What the child answers. */
export type ChildResult = { ok: true; measurements: Record<string, Measurement> } | { ok: false; error: string };

async function run(task: ChildTask): Promise<Record<string, Measurement>> {
  const group = allGroups(task.config).find((g) => g.name === task.group);
  if (!group) throw new Error(`unknown figure group ${JSON.stringify(task.group)}`);
  return group.measure(task.phase, task);
}

process.once("message", (task: ChildTask) => {
  run(task).then(
    (measurements) => reply({ ok: true, measurements }),
    (error: Error) => reply({ ok: false, error: error?.stack ?? String(error) }),
  );
});

function reply(result: ChildResult): void {
  (process.send as NonNullable<typeof process.send>)(result, () => process.exit(0));
}

import { randomBytes } from "node:crypto";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { withRawClient } from "../clients";
import type { BenchConfig } from "../config";
import type { FigureDefinition, FigureGroup, Measurement, TaskContext } from "../figure";
import type { S3Target } from "../s3Target";
import { deletePrefix } from "../support/deletePrefix";
import { forEachConcurrent } from "../support/forEachConcurrent";
import { meter, perOp } from "../support/meter";
import { ioTarget } from "../targets";
import { type ObjectOps, objectOps } from "./objectOps";

const WARM_UP = 10;

async function measure(task: TaskContext): Promise<Record<string, Measurement>> {
  const { config, target } = task;
  const ops = objectOps(task.path, target);
  const body = randomBytes(config.smallFileBytes);
  const prefix = `small/r${task.round}/${task.path}`;
  const keys = (set: string) => Array.from({ length: config.smallFiles }, (_, i) => `${prefix}/${set}/f${i}.bin`);
  const timed = async (concurrency: number, list: string[], op: (key: string) => Promise<unknown>) => {
    const run = await meter(
      () => forEachConcurrent(list.length, concurrency, (i) => op(list[i])),
      ops.requests,
      target.serverPid,
    );
    return perOp(list.length / run.seconds, run, list.length);
  };
  await warmUp(ops, prefix, body);
  const [a, b, c, d] = ["a", "b", "c", "d"].map(keys);
  const saves: Record<string, Measurement> = {
    "save.seq.overwrite": await timed(1, a, (key) => ops.save(key, body, true)),
    "save.seq.new": await timed(1, b, (key) => ops.save(key, body, false)),
    "save.c8.overwrite": await timed(config.concurrency, c, (key) => ops.save(key, body, true)),
    "save.c8.new": await timed(config.concurrency, d, (key) => ops.save(key, body, false)),
  };
  await expectStored(target, `${prefix}/`, [...a, ...b, ...c, ...d], body.length);
  const results: Record<string, Measurement> = {
    ...saves,
    read: await timed(1, a, async (key) => {
      if ((await ops.read(key)).length !== body.length) throw new Error(`${key}: wrong size read back`);
    }),
    size: await timed(1, a, async (key) => {
      if ((await ops.size(key)) !== body.length) throw new Error(`${key}: wrong size`);
    }),
    exists: await timed(1, a, async (key) => {
      if (!(await ops.exists(key))) throw new Error(`${key}: missing`);
    }),
    delete: await timed(1, a, (key) => ops.delete(key)),
  };
  await expectStored(target, `${prefix}/a/`, [], body.length);
  await ops.close();
  await deletePrefix(target, `${prefix}/`);
  return results;
}

/**
 * Fails the run unless the objects under `prefix` are exactly `keys`, each of `bytes` bytes: what the
 * server holds after the timed saves (or deletes), listed with a raw client outside the timings.
 */
async function expectStored(target: S3Target, prefix: string, keys: string[], bytes: number): Promise<void> {
  const stored = new Map<string, number | undefined>();
  await withRawClient(target, async (client) => {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) stored.set(object.Key as string, object.Size);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  });
  const missing = keys.filter((key) => !stored.has(key));
  const wrong = keys.filter((key) => stored.has(key) && stored.get(key) !== bytes);
  const expected = new Set(keys);
  const extra = [...stored.keys()].filter((key) => !expected.has(key));
  if (missing.length || wrong.length || extra.length) {
    throw new Error(
      `under ${prefix}: ${missing.length} missing (${missing.slice(0, 3).join(", ")}), ${wrong.length} not ` +
        `${bytes} bytes (${wrong.slice(0, 3).join(", ")}), ${extra.length} unexpected (${extra.slice(0, 3).join(", ")})`,
    );
  }
}

/** A few of every operation on keys of their own, so both paths start with warm connections and code. */
async function warmUp(ops: ObjectOps, prefix: string, body: Buffer): Promise<void> {
  for (let i = 0; i < WARM_UP; i++) {
    const key = `${prefix}/warm/f${i}.bin`;
    await ops.save(key, body, i % 2 === 0);
    await ops.read(key);
    await ops.size(key);
    await ops.exists(key);
    await ops.delete(key);
  }
}

function figure(id: string, label: string, lib: string, raw: string): FigureDefinition {
  return { id, label, unit: "ops/s", better: "higher", lib, raw, target: ioTarget };
}

/** Small objects: save, read, size, exists and delete of 10 KB files against the SDK commands they map to. */
export const smallObjectsGroup = (config: BenchConfig): FigureGroup => {
  const n = `${config.smallFiles} × ${config.smallFileBytes / 1024} KB`;
  const c = config.concurrency;
  return {
    name: "small-objects",
    phases: ["measure"],
    rounds: () => config.rounds,
    figures: [
      figure(
        "save.seq.overwrite",
        `save ${n}, sequential, overwrite`,
        "storage.save(key, buf, { overwrite: true })",
        "PutObject",
      ),
      figure(
        "save.seq.new",
        `save ${n}, sequential, no overwrite`,
        "storage.save(key, buf)",
        "PutObject + If-None-Match: *",
      ),
      figure(
        "save.c8.overwrite",
        `save ${n}, concurrency ${c}, overwrite`,
        "storage.save(key, buf, { overwrite: true })",
        "PutObject",
      ),
      figure(
        "save.c8.new",
        `save ${n}, concurrency ${c}, no overwrite`,
        "storage.save(key, buf)",
        "PutObject + If-None-Match: *",
      ),
      figure("read", "read 10 KB, sequential", "storage.read(key)", "GetObject + collect the body"),
      figure("size", "size, sequential", "storage.size(key)", "HeadObject"),
      figure("exists", "exists, sequential", "storage.exists(key)", "HeadObject (NotFound → false)"),
      figure("delete", "delete, sequential", "storage.delete(key)", "DeleteObject"),
    ],
    measure: (_phase, task) => measure(task),
  };
};

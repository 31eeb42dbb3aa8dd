import { DataSource, type ObjectLiteral } from "typeorm";
import { type FieldFile, FileFieldSubscriber, storages } from "typeorm-storages";
import { libStorage } from "../clients";
import type { BenchConfig } from "../config";
import type { FigureGroup, Measurement, TaskContext } from "../figure";
import { meter } from "../support/meter";
import { countRequests, sumCounters } from "../support/requestCounter";
import { hydrationTarget } from "../targets";
import { FileRow, PlainRow, sampleKey } from "./benchEntities";

const BATCH = 500;

/** An in-memory sql.js DataSource holding `rows` rows of `entity`, file columns filled. */
export async function seeded(entity: Function, subscribers: Function[], rows: number): Promise<DataSource> {
  const dataSource = new DataSource({ type: "sqljs", entities: [entity], subscribers, synchronize: true });
  await dataSource.initialize();
  for (let start = 0; start < rows; start += BATCH) {
    const values: ObjectLiteral[] = [];
    for (let i = start; i < Math.min(rows, start + BATCH); i++) {
      values.push({ title: `Row ${i}`, attachment: sampleKey(i), contract: `contracts/${i}/signed_${i}.pdf` });
    }
    await dataSource.createQueryBuilder().insert().into(entity).values(values).execute();
  }
  return dataSource;
}

/**
 * Loads every row `loads` times after a few warm-up loads (an application serves many; the first,
 * cold load is kept in `extra.firstLoadMs`); resolves with ms per timed load and requests per load,
 * counted over every load since the storages were made, so a request on the cold first load shows.
 * `find()` is the whole of it: TypeORM reads the rows, runs transformers and subscribers.
 */
async function measureLoads(task: TaskContext): Promise<Measurement> {
  const { config, target } = task;
  const lib = task.path === "lib";
  let counter = null;
  if (lib) {
    const media = libStorage(target, { querystringAuth: false });
    const signed = libStorage(target);
    counter = sumCounters([countRequests(media.client), countRequests(signed.client)]);
    storages.configure({ media, private: signed });
  }
  const entity = lib ? FileRow : PlainRow;
  const dataSource = await seeded(entity, lib ? [FileFieldSubscriber] : [], config.hydrationRows);
  const repository = dataSource.getRepository<ObjectLiteral>(entity);
  // 30 loads per round: with 10, one garbage collection more or less moved a round's mean by 10 %
  const warmUps = config.quick ? 1 : 5;
  const loads = config.quick ? 2 : 30;
  const check = (rows: ObjectLiteral[]) => {
    if (rows.length !== config.hydrationRows) throw new Error(`loaded ${rows.length} of ${config.hydrationRows} rows`);
  };
  const first = await meter(async () => check(await repository.find()), null, null);
  for (let i = 1; i < warmUps; i++) check(await repository.find());
  const run = await meter(
    async () => {
      for (let i = 0; i < loads; i++) check(await repository.find());
    },
    null,
    null,
  );
  checkKeys(await repository.find({ order: { id: "ASC" }, take: 10 }), lib);
  await dataSource.destroy();
  await storages.close();
  const measurement: Measurement = {
    value: (run.seconds * 1000) / loads,
    clientCpuMs: run.clientCpuMs / loads,
    extra: { firstLoadMs: first.seconds * 1000 },
  };
  // every request since the storages were made, the cold first load (which awaits ready()) included
  if (counter) measurement.requestsPerOp = counter.count / (warmUps + loads);
  return measurement;
}

/** Fails the run unless loaded rows hold the seeded keys (as `FieldFile`s on the library path, strings otherwise). */
function checkKeys(rows: ObjectLiteral[], lib: boolean): void {
  for (const [i, row] of rows.entries()) {
    const seeded = [sampleKey(i), `contracts/${i}/signed_${i}.pdf`];
    const loaded = [row.attachment, row.contract].map((value) => (lib ? (value as FieldFile).name : value));
    if (loaded[0] !== seeded[0] || loaded[1] !== seeded[1]) {
      throw new Error(`row ${i} loaded ${JSON.stringify(loaded)}, seeded ${JSON.stringify(seeded)}`);
    }
  }
}

/** Hydration: loading rows with two file columns against the same rows with plain varchar columns. */
export const hydrationGroup = (config: BenchConfig): FigureGroup => ({
  name: "hydration",
  phases: ["measure"],
  rounds: () => config.rounds,
  figures: [
    {
      id: "hydrate",
      label: `load ${config.hydrationRows.toLocaleString("en")} rows, 2 file columns (sql.js)`,
      unit: "ms",
      better: "lower",
      lib: "repository.find() with @FileColumn + @PrivateFileColumn, FileFieldSubscriber",
      raw: "repository.find() with two varchar columns, no subscriber",
      target: hydrationTarget,
    },
  ],
  measure: async (_phase, task) => ({ hydrate: await measureLoads(task) }),
});

/*
 * Where loading rows spends its time, without the database: replays the two steps of `find()` that
 * run per row (TypeORM's RawSqlResultsToEntityTransformer, then the "Load" broadcast, which calls no
 * subscriber once storages are ready) on rows read once from sql.js, alternating the plain-column entity and the
 * file-column one. The `hydrate` figure of `npm run bench` includes the SQL (about three quarters of
 * a `find()` of 10,000 rows); this isolates the part the library adds to. Storages are in memory:
 * loading makes no storage call either way.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node .tmp/bench-build/bench/hydrationReplay.js [loads]
 */
import type { DataSource, ObjectLiteral } from "typeorm";
import { RawSqlResultsToEntityTransformer } from "typeorm/query-builder/transformer/RawSqlResultsToEntityTransformer";
import { FileFieldSubscriber, InMemoryStorage, storages } from "typeorm-storages";
import { FileRow, PlainRow } from "./figures/benchEntities";
import { seeded } from "./figures/hydration";

const ROWS = 10_000;

/** One replayable load: transform the cached raw rows into entities and broadcast "Load". */
async function replayer(entity: Function, subscribers: Function[]): Promise<() => Promise<void>> {
  const dataSource: DataSource = await seeded(entity, subscribers, ROWS);
  const builder = dataSource.getRepository<ObjectLiteral>(entity).createQueryBuilder("row");
  const queryRunner = dataSource.createQueryRunner();
  const raw = await builder.getRawMany(); // the rows as find() gets them, before hydration
  const { expressionMap } = builder;
  const alias = expressionMap.mainAlias;
  if (!alias) throw new Error("no main alias");
  return async () => {
    const transformer = new RawSqlResultsToEntityTransformer(expressionMap, dataSource.driver, [], queryRunner);
    const entities = transformer.transform(raw, alias);
    await queryRunner.broadcaster.broadcast("Load", alias.metadata, entities);
    if (entities.length !== ROWS) throw new Error(`replayed ${entities.length} of ${ROWS} rows`);
  };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];

async function main(): Promise<void> {
  const loads = Number(process.argv[2] ?? 200);
  storages.configure({
    media: new InMemoryStorage({ baseUrl: "/media/" }),
    private: new InMemoryStorage({ baseUrl: "/private/" }),
  });
  const paths = [
    { name: "plain varchar columns, no subscriber", run: await replayer(PlainRow, []) },
    { name: "2 file columns + FileFieldSubscriber", run: await replayer(FileRow, [FileFieldSubscriber]) },
  ];
  const times = paths.map(() => [] as number[]);
  for (let i = 0; i < 20; i++) for (const path of paths) await path.run();
  for (let i = 0; i < loads; i++) {
    for (const [index, path] of paths.entries()) {
      const start = process.hrtime.bigint();
      await path.run();
      times[index].push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  const summaries = times.map((t) => t.sort((a, b) => a - b));
  for (const [index, path] of paths.entries()) {
    const t = summaries[index];
    console.log(
      `${path.name.padEnd(40)} min ${t[0].toFixed(2)}  p25 ${quantile(t, 0.25).toFixed(2)}  median ${quantile(t, 0.5).toFixed(2)} ms per ${ROWS.toLocaleString("en")} rows`,
    );
  }
  const extra = (q: number) => ((quantile(summaries[1], q) - quantile(summaries[0], q)) * 1000) / ROWS;
  console.log(`library's share per row: ${extra(0).toFixed(2)} µs (min), ${extra(0.25).toFixed(2)} µs (p25)`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

import { DataSource, type DataSourceOptions } from "typeorm";
import { FileFieldSubscriber, InMemoryStorage, reconcileFiles, storages } from "../../src";
import { DB, dataSourceOptions } from "../support/dataSource";
import { Sheet } from "./entities";

let ds: DataSource;
let media: InMemoryStorage;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  ds = new DataSource({ ...dataSourceOptions([Sheet], [FileFieldSubscriber]), poolSize: 10 } as DataSourceOptions);
  await ds.initialize();
});
afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await ds?.destroy();
});
beforeEach(async () => {
  media = new InMemoryStorage({ baseUrl: "/m/" });
  storages.configure({ default: media });
  await ds.getRepository(Sheet).createQueryBuilder().delete().execute();
  unhandled.length = 0;
});
// every scenario ends with no orphan: `orphans` finds nothing to sweep, and no rejection went unhandled
afterEach(async () => {
  const [report] = await reconcileFiles(ds, { minAge: 0 });
  expect(report.orphans.map((o) => o.name)).toEqual([]);
  expect(unhandled).toEqual([]);
});

const stored = async () => (await media.listAll("")).map((o) => o.name).sort();
const rowKeys = async () =>
  (await ds.getRepository(Sheet).find())
    .map((s) => s.file.name)
    .filter((k): k is string => k !== null)
    .sort();

// TypeORM's SQLite drivers run every transaction on one shared connection: concurrent transactions
// interleave on it (TypeORM's own limit), so these scenarios are for PostgreSQL and MariaDB.
(DB === "sqljs" ? describe.skip : describe)(`many requests at once through one DataSource on ${DB}`, () => {
  it("N requests replacing the file of one row: the last writer's file stays, every other is deleted", async () => {
    const sheet = new Sheet();
    await sheet.file.save("first.txt", "0");
    const requests = Array.from({ length: 8 }, async (_, i) => {
      const mine = await ds.getRepository(Sheet).findOneByOrFail({ id: sheet.id });
      return mine.file.save(`r${i}.txt`, String(i));
    });
    await Promise.all(requests);
    const keys = await rowKeys();
    expect(keys).toHaveLength(1);
    expect(await stored()).toEqual(keys);
  }, 20000);

  it("a replace and a removal of one row racing: no file is left that no row names", async () => {
    const repo = ds.getRepository(Sheet);
    for (let round = 0; round < 6; round++) {
      const sheet = new Sheet();
      await sheet.file.save(`base${round}.txt`, "0");
      const [a, b] = await Promise.all([
        repo.findOneByOrFail({ id: sheet.id }),
        repo.findOneByOrFail({ id: sheet.id }),
      ]);
      const results = await Promise.allSettled([
        a.file.save(`new${round}.txt`, "1"),
        round % 2 ? repo.remove(b) : new Promise((r) => setTimeout(r, 1)).then(() => repo.remove(b)),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    }
    expect(await stored()).toEqual(await rowKeys());
  }, 20000);

  it("two rows swapping keys in concurrent transactions keep both files", async () => {
    const a = new Sheet();
    const b = new Sheet();
    await a.file.save("a.txt", "a");
    await b.file.save("b.txt", "b");
    const swap = () =>
      ds.transaction(async (em) => {
        const [x, y] = await Promise.all([
          em.findOneByOrFail(Sheet, { id: a.id }),
          em.findOneByOrFail(Sheet, { id: b.id }),
        ]);
        const xKey = x.file.name;
        x.file.assign(y.file.name);
        y.file.assign(xKey);
        await em.save([x, y]);
      });
    const results = await Promise.allSettled([swap(), swap(), swap(), swap()]);
    for (const r of results) if (r.status === "rejected") expect(String(r.reason)).toMatch(/deadlock/i);
    const keys = await rowKeys();
    expect(keys).toEqual(["sheets/a.txt", "sheets/b.txt"]);
    expect(await stored()).toEqual(keys);
  }, 20000);

  it("SERIALIZABLE transactions that fail and are retried by the caller neither lose nor duplicate files", async () => {
    const sheet = new Sheet();
    await sheet.file.save("first.txt", "0");
    const requests = 8;
    // every first attempt reads the row before any writes it: all but one must fail and be retried
    let waiting = requests;
    let readAll!: () => void;
    const allRead = new Promise<void>((resolve) => {
      readAll = resolve;
    });
    let failures = 0;
    const request = async (i: number) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await ds.transaction("SERIALIZABLE", async (em) => {
            const mine = await em.findOneByOrFail(Sheet, { id: sheet.id });
            if (attempt === 0) {
              if (--waiting === 0) readAll();
              await allRead;
            }
            return mine.file.save(`s${i}.txt`, `${i}/${attempt}`, { manager: em });
          });
        } catch (error) {
          const cause = (error as { driverError?: { code?: string; errno?: number } }).driverError;
          if (attempt < 20 && (cause?.code === "40001" || cause?.code === "40P01" || cause?.errno === 1213)) {
            failures++;
            continue;
          }
          throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: requests }, (_, i) => request(i)));
    expect(failures).toBeGreaterThan(0);
    const keys = await rowKeys();
    expect(keys).toHaveLength(1);
    expect(await stored()).toEqual(keys);
  }, 30000);

  it("saves under SELECT ... FOR UPDATE keep exactly the last file", async () => {
    const sheet = new Sheet();
    await sheet.file.save("first.txt", "0");
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        ds.transaction(async (em) => {
          const mine = await em.findOneOrFail(Sheet, { where: { id: sheet.id }, lock: { mode: "pessimistic_write" } });
          await mine.file.save(`l${i}.txt`, String(i), { manager: em });
        }),
      ),
    );
    const keys = await rowKeys();
    expect(keys).toHaveLength(1);
    expect(await stored()).toEqual(keys);
  }, 20000);

  it("more long transactions than the pool holds, each replacing and removing files, all finish", async () => {
    const repo = ds.getRepository(Sheet);
    const sheets = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const s = new Sheet();
        await s.file.save(`p${i}.txt`, "0");
        return s;
      }),
    );
    await Promise.all(
      sheets.map((s, i) =>
        ds.transaction(async (em) => {
          const mine = await em.findOneByOrFail(Sheet, { id: s.id });
          await new Promise((r) => setTimeout(r, 20));
          await mine.file.save(`q${i}.txt`, "1", { manager: em });
          if (i % 3 === 0) await em.remove(mine);
        }),
      ),
    );
    expect(await repo.count()).toBe(13);
    expect(await stored()).toEqual(await rowKeys());
  }, 20000);

  it("a transaction that throws after save() deletes only its upload", async () => {
    const sheets = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const s = new Sheet();
        await s.file.save(`k${i}.txt`, "0");
        return s;
      }),
    );
    const before = await stored();
    const results = await Promise.allSettled(
      sheets.map((s, i) =>
        ds.transaction(async (em) => {
          const mine = await em.findOneByOrFail(Sheet, { id: s.id });
          await mine.file.save(`t${i}.txt`, "1", { manager: em });
          throw new Error(`request ${i} failed`);
        }),
      ),
    );
    expect(results.every((r) => r.status === "rejected")).toBe(true);
    expect(await stored()).toEqual(before);
    expect(await rowKeys()).toEqual(before);
  }, 20000);
});

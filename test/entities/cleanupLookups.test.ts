import { DataSource, type DataSourceOptions, Entity, PrimaryGeneratedColumn } from "typeorm";
import { type FieldFile, FileColumn, FileFieldSubscriber, InMemoryStorage, storages } from "../../src";
import { DB, dataSourceOptions } from "../support/dataSource";
import { Sheet } from "./entities";

/*
 * Before a replaced or removed file is deleted, its key is looked up in every file column (cleanup.ts):
 * a row that still names it keeps it. That lookup runs once the transaction has committed, while
 * TypeORM still holds the connection that committed it.
 */

let media: InMemoryStorage;
beforeEach(() => {
  media = new InMemoryStorage({ baseUrl: "/m/" });
  storages.configure({ default: media });
});

/** `work`, or a rejection naming it when it has not settled within `ms` (a pool waiting for itself). */
async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe(`the key lookup before a cleanup deletion, on ${DB}`, () => {
  let ds: DataSource;
  afterEach(() => ds?.destroy());

  it("runs on the connection that committed, so a pool of one connection does not wait for itself", async () => {
    ds = new DataSource({ ...dataSourceOptions([Sheet], [FileFieldSubscriber]), poolSize: 1 } as DataSourceOptions);
    await ds.initialize();
    const repo = ds.getRepository(Sheet);

    const sheet = new Sheet();
    const first = await within(5000, "the first save", sheet.file.save("a.txt", "a"));
    const second = await within(5000, "a save replacing the file", sheet.file.save("b.txt", "b"));
    expect(await media.exists(first)).toBe(false);
    await within(5000, "remove()", repo.remove(sheet));
    expect(await media.exists(second)).toBe(false);

    // outside a transaction the lookup runs as soon as the row is written, on the connection that wrote it
    const other = new Sheet();
    const third = await other.file.save("c.txt", "c");
    await within(5000, "remove() without a transaction", repo.remove(other, { transaction: false }));
    expect(await media.exists(third)).toBe(false);

    const last = new Sheet();
    const fourth = await last.file.save("d.txt", "d");
    await within(
      5000,
      "a transaction removing the row",
      ds.transaction((em) => em.remove(last)),
    );
    expect(await media.exists(fourth)).toBe(false);
  });

  // A replica that has not received the transaction yet is simulated by a schema holding an empty copy
  // of the table, which the replica's connections find first on their search_path.
  (DB === "postgres" ? it : it.skip)(
    "asks the master, not a lagging replica, which rows still name the key (PostgreSQL only: replication set-up)",
    async () => {
      const base = dataSourceOptions([Sheet], [FileFieldSubscriber]) as { url?: string };
      const url = base.url ?? "postgres://postgres@127.0.0.1:5432/test";
      const replicaUrl = `${url}${url.includes("?") ? "&" : "?"}options=${encodeURIComponent("-c search_path=lagging,public")}`;
      const { url: _url, ...common } = base;
      ds = new DataSource({
        ...common,
        replication: { master: { url }, slaves: [{ url: replicaUrl }] },
      } as DataSourceOptions);
      await ds.initialize();
      await ds.query("DROP SCHEMA IF EXISTS lagging CASCADE");
      await ds.query("CREATE SCHEMA lagging");
      await ds.query(`CREATE TABLE lagging."sheet" (LIKE public."sheet" INCLUDING ALL)`);
      try {
        const repo = ds.getRepository(Sheet);
        const a = new Sheet();
        const shared = await a.file.save("shared.txt", "s");
        // one transaction: b takes a's key, and a gets a new file
        const b = new Sheet();
        b.file = a.file;
        const replacement = await a.file.save("new.txt", "n", { save: false });
        await repo.save([a, b]);
        expect(b.file.name).toBe(shared);
        expect(await media.exists(shared)).toBe(true); // b's row, committed on the master, names it
        expect(await media.exists(replacement)).toBe(true);
      } finally {
        await ds.query("DROP SCHEMA IF EXISTS lagging CASCADE");
      }
    },
  );
});

/** A table of its own for a second DataSource: a file column on the same storage as Sheet's. */
@Entity()
class Ledger {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn({ uploadTo: "ledgers/" }) file!: FieldFile;
}

describe(`the key lookup in other DataSources before a cleanup deletion, on ${DB}`, () => {
  let sheets: DataSource;
  let ledgers: DataSource;
  afterEach(async () => {
    await sheets?.destroy();
    await ledgers?.destroy();
  });

  // sql.js runs every query on one connection and has no pool to wait for
  (DB === "sqljs" ? it.skip : it)(
    "waits for the committing connection's release, so two DataSources with a pool of one committing at once do not wait for each other",
    async () => {
      const options = { ...dataSourceOptions([Sheet], [FileFieldSubscriber]), poolSize: 1 } as DataSourceOptions;
      sheets = await new DataSource(options).initialize();
      // the first DataSource dropped the schema: the second only adds its table
      ledgers = await new DataSource({
        ...options,
        entities: [Ledger],
        dropSchema: false,
      } as DataSourceOptions).initialize();
      const sheet = new Sheet();
      const sheetKey = await sheet.file.save("s.txt", "s", { manager: sheets.manager });
      const ledger = new Ledger();
      const ledgerKey = await ledger.file.save("l.txt", "l", { manager: ledgers.manager });
      await within(
        5000,
        "two removals committing at once",
        Promise.all([sheets.getRepository(Sheet).remove(sheet), ledgers.getRepository(Ledger).remove(ledger)]),
      );
      expect(await media.exists(sheetKey)).toBe(false);
      expect(await media.exists(ledgerKey)).toBe(false);

      // the other DataSource is still asked: a key its row names stays, and goes with that row
      const sheet2 = new Sheet();
      const shared = await sheet2.file.save("shared.txt", "x", { manager: sheets.manager });
      const holder = new Ledger();
      holder.file.assign(shared);
      await ledgers.getRepository(Ledger).save(holder);
      const ledger2 = new Ledger();
      const ledger2Key = await ledger2.file.save("l2.txt", "l", { manager: ledgers.manager });
      await within(
        5000,
        "a transaction and a removal without one committing at once",
        Promise.all([
          sheets.transaction((em) => em.remove(sheet2)),
          ledgers.getRepository(Ledger).remove(ledger2, { transaction: false }),
        ]),
      );
      expect(await media.exists(shared)).toBe(true);
      expect(await media.exists(ledger2Key)).toBe(false);
      await ledgers.getRepository(Ledger).remove(holder);
      expect(await media.exists(shared)).toBe(false);
    },
  );
});

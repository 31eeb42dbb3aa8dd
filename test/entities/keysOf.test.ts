import {
  Column,
  type DataSource,
  DeleteDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  type ObjectLiteral,
  PrimaryColumn,
} from "typeorm";
import { type FieldFile, FileColumn, FileFieldSubscriber, InMemoryStorage, storages } from "../../src";
import { fileKeyColumns, keysOf } from "../../src/fields/fileKeyColumns";
import { DB, openDataSource } from "../support/dataSource";

@Entity()
class Numbered {
  @PrimaryColumn() id!: number;
  @FileColumn("keys") file!: FieldFile;
  @DeleteDateColumn() deletedAt!: Date | null;
}

@Entity()
class Shelved {
  @PrimaryColumn() shelf!: string;
  @PrimaryColumn() n!: number;
  @FileColumn("keys") file!: FieldFile;
}

@Entity()
class Named {
  @PrimaryColumn("uuid") id!: string;
  @FileColumn("keys") file!: FieldFile;
}

class Code {
  @PrimaryColumn() region!: string;
  @PrimaryColumn() serial!: number;
}
@Entity()
class Coded {
  @Column(() => Code) code!: Code;
  @FileColumn("keys") file!: FieldFile;
}

@Entity()
class Holder {
  @PrimaryColumn() id!: number;
}
@Entity()
class Held {
  @PrimaryColumn() holderId!: number;
  @ManyToOne(() => Holder)
  @JoinColumn({ name: "holderId" })
  holder!: Holder;
  @PrimaryColumn() n!: number;
  @FileColumn("keys") file!: FieldFile;
}

/**
 * Reads every key of `entity`'s file column `pageSize` rows a query, running `between` once the first
 * page is read and before the second is asked for: what another connection does while keys are paged.
 */
async function readKeys(
  ds: DataSource,
  entity: Function,
  pageSize: number,
  between: () => Promise<unknown>,
): Promise<string[]> {
  const column = fileKeyColumns(ds).find((c) => c.metadata.target === entity);
  if (!column) throw new Error(`no file column on ${entity.name}`);
  const keys: string[] = [];
  for await (const key of keysOf(ds, column, { pageSize })) {
    keys.push(key);
    if (keys.length === pageSize) await between();
  }
  return keys;
}

const insert = (ds: DataSource, entity: Function, rows: ObjectLiteral[]) =>
  ds.createQueryBuilder().insert().into(entity).values(rows).execute();

describe(`keysOf pages through a file column by primary key, on ${DB}`, () => {
  let ds: DataSource;

  beforeEach(async () => {
    storages.configure({ keys: new InMemoryStorage() });
    ds = await openDataSource([Numbered, Shelved, Named, Coded, Holder, Held], [FileFieldSubscriber]);
  });
  afterEach(async () => {
    await ds.destroy();
    storages.configure({});
  });

  it("neither skips nor repeats a key when rows are deleted and inserted between pages", async () => {
    await insert(
      ds,
      Numbered,
      [1, 2, 3, 4, 5, 6].map((id) => ({ id, file: `f${id}` })),
    );
    const keys = await readKeys(ds, Numbered, 2, async () => {
      const repo = ds.getRepository(Numbered);
      // a row already read and one not read yet are deleted, one is soft-deleted, one is added
      await repo.delete([1, 4]);
      await repo.softDelete(5);
      await insert(ds, Numbered, [{ id: 7, file: "f7" }]);
    });
    expect(keys).toEqual(["f1", "f2", "f3", "f5", "f6", "f7"]);
  });

  it("pages a composite primary key, and leaves out rows inserted behind the last key read", async () => {
    await insert(ds, Shelved, [
      { shelf: "a", n: 1, file: "a1" },
      { shelf: "a", n: 2, file: "a2" },
      { shelf: "b", n: 1, file: "b1" },
      { shelf: "b", n: 2, file: "b2" },
      { shelf: "c", n: 1, file: "c1" },
      { shelf: "c", n: 2, file: "" },
    ]);
    const keys = await readKeys(ds, Shelved, 2, async () => {
      await ds.getRepository(Shelved).delete({ shelf: "b", n: 1 });
      await insert(ds, Shelved, [
        { shelf: "a", n: 0, file: "a0" },
        { shelf: "a", n: 3, file: "a3" },
      ]);
    });
    expect(keys).toEqual(["a1", "a2", "a3", "b2", "c1"]);
  });

  it("pages uuid primary keys", async () => {
    const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
    await insert(
      ds,
      Named,
      [1, 2, 3, 4, 5].map((n) => ({ id: id(n), file: `u${n}` })),
    );
    const keys = await readKeys(ds, Named, 2, async () => {
      await ds.getRepository(Named).delete(id(3));
      await insert(ds, Named, [{ id: id(0), file: "u0" }]);
    });
    expect(keys).toEqual(["u1", "u2", "u4", "u5"]);
  });

  it("pages a primary key declared in an embedded object", async () => {
    await insert(ds, Coded, [
      { code: { region: "eu", serial: 1 }, file: "eu1" },
      { code: { region: "eu", serial: 2 }, file: "eu2" },
      { code: { region: "us", serial: 1 }, file: "us1" },
      { code: { region: "us", serial: 2 }, file: "us2" },
    ]);
    const keys = await readKeys(ds, Coded, 2, async () => {
      await ds.getRepository(Coded).delete({ code: { region: "us", serial: 1 } });
      await insert(ds, Coded, [{ code: { region: "eu", serial: 0 }, file: "eu0" }]);
    });
    expect(keys).toEqual(["eu1", "eu2", "us2"]);
  });

  it("pages a primary key that is also a relation's join column", async () => {
    await insert(ds, Holder, [{ id: 1 }, { id: 2 }]);
    await insert(ds, Held, [
      { holderId: 1, n: 1, file: "h11" },
      { holderId: 1, n: 2, file: "h12" },
      { holderId: 2, n: 1, file: "h21" },
      { holderId: 2, n: 2, file: "h22" },
    ]);
    const keys = await readKeys(ds, Held, 2, async () => {
      await ds.getRepository(Held).delete({ holderId: 1, n: 1 });
    });
    expect(keys).toEqual(["h11", "h12", "h21", "h22"]);
  });

  it("reads a table that fills its pages exactly, and an empty one", async () => {
    await insert(
      ds,
      Numbered,
      [1, 2, 3, 4].map((id) => ({ id, file: `f${id}` })),
    );
    expect(await readKeys(ds, Numbered, 2, async () => undefined)).toEqual(["f1", "f2", "f3", "f4"]);
    expect(await readKeys(ds, Named, 2, async () => undefined)).toEqual([]);
  });
});

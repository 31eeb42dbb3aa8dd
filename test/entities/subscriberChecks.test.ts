import {
  Column,
  DataSource,
  Entity,
  type EntitySubscriberInterface,
  EventSubscriber,
  PrimaryGeneratedColumn,
} from "typeorm";
import {
  type FieldFile,
  FileColumn,
  FileFieldSubscriber,
  InMemoryStorage,
  StorageConfigError,
  storages,
} from "../../src";
import { DB, dataSourceOptions } from "../support/dataSource";

@Entity()
class Note {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ default: "" }) body!: string;
  @FileColumn() file!: FieldFile;
}

@Entity()
class Shadowed {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn() file!: FieldFile;

  constructor() {
    // what `useDefineForClassFields: true` compiles `file!: FieldFile;` to
    Object.defineProperty(this, "file", { value: undefined, writable: true, enumerable: true, configurable: true });
  }
}

const open = async (subscribers: Function[], entities: Function[] = [Note]) => {
  const ds = new DataSource(dataSourceOptions(entities, subscribers));
  await ds.initialize();
  return ds;
};

beforeEach(() => storages.configure({ default: new InMemoryStorage() }));

describe(`FileFieldSubscriber checks on ${DB}`, () => {
  it("refuses to save through a DataSource without the subscriber, before uploading", async () => {
    const ds = await open([]);
    const media = storages.get("default");
    try {
      const note = new Note();
      const error = await note.file.save("a.txt", "x").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageConfigError);
      expect((error as Error).message).toMatch(/no FileFieldSubscriber.*subscribers: \[FileFieldSubscriber\]/s);
      const withManager = await note.file.save("a.txt", "x", { manager: ds.manager }).catch((e: unknown) => e);
      expect(withManager).toBeInstanceOf(StorageConfigError);
      expect(await media.listdir("")).toEqual({ directories: [], files: [] });
    } finally {
      await ds.destroy();
    }
  });

  it("finds the one DataSource that can insert a new entity, and asks for a manager when there are two", async () => {
    const first = await open([FileFieldSubscriber]);
    try {
      const note = new Note();
      await note.file.save("one.txt", "1");
      expect(await first.getRepository(Note).countBy({ id: note.id })).toBe(1);
      if (DB === "sqljs") {
        const second = await open([FileFieldSubscriber]);
        try {
          const error = await new Note().file.save("two.txt", "2").catch((e: unknown) => e);
          expect(error).toBeInstanceOf(StorageConfigError);
          expect((error as Error).message).toMatch(/2 initialized DataSources know Note: pass \{ manager \}/);
          const viaSecond = new Note();
          await viaSecond.file.save("two.txt", "2", { manager: second.manager });
          expect(await second.getRepository(Note).countBy({ id: viaSecond.id })).toBe(1);
        } finally {
          await second.destroy();
        }
      }
    } finally {
      await first.destroy();
    }
  });

  it("explains the tsconfig fix when class fields hide the accessor", async () => {
    const ds = await open([FileFieldSubscriber], [Shadowed]);
    try {
      await ds.query(
        ds.driver.options.type === "postgres"
          ? `INSERT INTO "shadowed" ("file") VALUES ('k.txt')`
          : "INSERT INTO shadowed (file) VALUES ('k.txt')",
      );
      const error = await ds
        .getRepository(Shadowed)
        .find()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageConfigError);
      expect((error as Error).message).toMatch(/useDefineForClassFields.*false.*declare file: FieldFile/s);
      const insert = await ds
        .getRepository(Shadowed)
        .save(new Shadowed())
        .catch((e: unknown) => e);
      expect(insert).toBeInstanceOf(StorageConfigError);
    } finally {
      await ds.destroy();
    }
  });
});

describe(`a DataSource destroyed and initialized again, on ${DB}`, () => {
  it("keeps its file columns patched: saving a row whose file was never set leaves the column alone", async () => {
    const ds = await open([FileFieldSubscriber]);
    try {
      await ds.destroy();
      await ds.initialize(); // TypeORM builds new metadata objects
      const note = new Note();
      await note.file.save("kept.txt", "1", { manager: ds.manager });
      await ds.getRepository(Note).save(Object.assign(new Note(), { id: note.id, body: "edited" }));
      const reloaded = await ds.getRepository(Note).findOneByOrFail({ id: note.id });
      expect(reloaded.body).toBe("edited");
      expect(reloaded.file.name).toBe(note.file.name);
    } finally {
      await ds.destroy();
    }
  });
});

describe(`loading rows on ${DB}`, () => {
  const insertNote = async (ds: DataSource, key: string | null) => {
    const { id } = await ds.getRepository(Note).save(Object.assign(new Note(), { body: "b" }));
    if (key !== null) await ds.getRepository(Note).update({ id }, { file: key } as never);
    return id;
  };

  /** Runs `test` on a fresh DataSource with the subscriber, destroyed afterwards. */
  const withDataSource = async (test: (ds: DataSource) => Promise<void>) => {
    const ds = await open([FileFieldSubscriber]);
    try {
      await test(ds);
    } finally {
      await ds.destroy();
    }
  };

  // two DataSources on one server database would share the table
  const sqljsOnly = DB === "sqljs" ? it : it.skip;

  /** Runs `test` on two fresh DataSources with the subscriber, both destroyed afterwards. */
  const withTwoDataSources = async (test: (first: DataSource, second: DataSource) => Promise<void>) => {
    const first = await open([FileFieldSubscriber]);
    const second = await open([FileFieldSubscriber]);
    try {
      await test(first, second);
    } finally {
      await first.destroy();
      await second.destroy();
    }
  };

  sqljsOnly("binds each loaded row to the DataSource that loaded it, whether its file column is set or NULL", () =>
    withTwoDataSources(async (first, second) => {
      const withFile = await insertNote(second, "old.txt");
      const withoutFile = await insertNote(second, null);
      const [a, b] = await second.getRepository(Note).find({ order: { id: "ASC" } });
      expect([a.id, b.id]).toEqual([withFile, withoutFile]);
      expect(b.file.isEmpty).toBe(true);
      await a.file.save("a.txt", "1");
      await b.file.save("b.txt", "2");
      const saved = await second.getRepository(Note).find({ order: { id: "ASC" } });
      expect(saved.map((n) => n.file.name)).toEqual([a.file.name, b.file.name]);
      expect(await first.getRepository(Note).count()).toBe(0);
    }),
  );

  sqljsOnly("binds a row loaded without its file column, so saving a file needs no manager", () =>
    withTwoDataSources(async (first, second) => {
      const id = await insertNote(second, "old.txt");
      const [partial] = await second.getRepository(Note).find({ select: { id: true, body: true } });
      expect(partial.id).toBe(id);
      await partial.file.save("new.txt", "2");
      const reloaded = await second.getRepository(Note).findOneByOrFail({ id });
      expect(reloaded.file.name).toBe(partial.file.name);
      expect(await reloaded.file.read()).toEqual(Buffer.from("2"));
      expect(await first.getRepository(Note).count()).toBe(0);
    }),
  );

  it("makes the first load wait for the storage's ready(), and later loads not at all", async () => {
    const storage = new InMemoryStorage({ baseUrl: "/m/" });
    let release = () => {};
    const ready = jest
      .spyOn(storage, "ready")
      .mockImplementation(() => new Promise<void>((resolve) => (release = resolve)));
    storages.configure({ default: storage });
    await withDataSource(async (ds) => {
      await insertNote(ds, "k.txt");
      let loaded = false;
      const loading = ds
        .getRepository(Note)
        .find()
        .then((rows) => {
          loaded = true;
          return rows;
        });
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(loaded).toBe(false);
      release();
      const [note] = await loading;
      expect(note.file.url).toBe("/m/k.txt");
      await ds.getRepository(Note).find();
      expect(ready).toHaveBeenCalledTimes(1);
    });
  });

  it("fails a load whose storage cannot get ready, and tries again on the next", async () => {
    const storage = new InMemoryStorage();
    const ready = jest
      .spyOn(storage, "ready")
      .mockRejectedValueOnce(new StorageConfigError("no credentials"))
      .mockResolvedValue(undefined);
    storages.configure({ default: storage });
    await withDataSource(async (ds) => {
      await insertNote(ds, "k.txt");
      await expect(ds.getRepository(Note).find()).rejects.toThrow(/no credentials/);
      const [note] = await ds.getRepository(Note).find();
      expect(note.file.name).toBe("k.txt");
      expect(ready).toHaveBeenCalledTimes(2);
    });
  });

  it("waits again for a storage configured after rows were loaded", async () => {
    await withDataSource(async (ds) => {
      await insertNote(ds, "k.txt");
      await ds.getRepository(Note).find();
      const replacement = new InMemoryStorage({ baseUrl: "/new/" });
      const ready = jest.spyOn(replacement, "ready");
      storages.configure({ default: replacement });
      const [note] = await ds.getRepository(Note).find();
      expect(ready).toHaveBeenCalledTimes(1);
      expect(note.file.url).toBe("/new/k.txt");
    });
  });

  it("waits again for the storage a factory builds after storages.close()", async () => {
    const built: InMemoryStorage[] = [];
    const ready: jest.SpyInstance[] = [];
    storages.configure({
      default: () => {
        const storage = new InMemoryStorage({ baseUrl: `/m${built.length}/` });
        built.push(storage);
        ready.push(jest.spyOn(storage, "ready"));
        return storage;
      },
    });
    await withDataSource(async (ds) => {
      await insertNote(ds, "k.txt");
      await ds.getRepository(Note).find(); // waits for ready()
      await ds.getRepository(Note).find(); // finds the storage ready, and remembers that
      await storages.close();
      const [note] = await ds.getRepository(Note).find();
      expect(built).toHaveLength(2);
      expect(ready.map((spy) => spy.mock.calls.length)).toEqual([1, 1]);
      expect(note.file.url).toBe("/m1/k.txt");
    });
  });

  it("leaves the subscriber out of loads once every storage is ready", async () => {
    await withDataSource(async (ds) => {
      await insertNote(ds, "k.txt");
      await ds.getRepository(Note).find();
      const subscriber = ds.subscribers.find((s) => s instanceof FileFieldSubscriber) as FileFieldSubscriber;
      expect(subscriber.afterLoad).toBeUndefined();
    });
  });
});

describe(`a DataSource the library did not see initialize, on ${DB}`, () => {
  it("is patched by its first query, so loaded rows are bound to it", async () => {
    // another copy of TypeORM: its DataSource.initialize was never wrapped by the library
    let OtherDataSource!: typeof DataSource;
    jest.isolateModules(() => {
      OtherDataSource = require("typeorm").DataSource;
    });
    expect(OtherDataSource).not.toBe(DataSource);
    const other = new OtherDataSource(dataSourceOptions([Note], [FileFieldSubscriber]));
    await other.initialize();
    try {
      // no save first: saving would patch the columns through beforeInsert
      await other.query(
        other.driver.options.type === "postgres"
          ? `INSERT INTO "note" ("body") VALUES ('b')`
          : "INSERT INTO note (body) VALUES ('b')",
      );
      const [loaded] = await other.getRepository(Note).find();
      const { id } = loaded;
      await loaded.file.save("bound.txt", "x");
      const again = await other.getRepository(Note).findOneByOrFail({ id });
      expect(again.file.name).toBe(loaded.file.name);
      expect(loaded.file.name).toMatch(/^bound/);
    } finally {
      await other.destroy();
    }
  });
});

/** An application's own subscriber that publishes after each commit (a message bus), and may fail. */
let failNextPublish = false;
@EventSubscriber()
class PublishAfterCommit implements EntitySubscriberInterface {
  afterTransactionCommit(): void {
    if (!failNextPublish) return;
    failNextPublish = false;
    throw new Error("message bus unavailable");
  }
}

describe(`a save whose commit another subscriber fails after, on ${DB}`, () => {
  it("rejects with that error and keeps the upload the committed row names, and the field on it", async () => {
    const media = new InMemoryStorage();
    storages.configure({ default: media });
    const ds = await open([FileFieldSubscriber, PublishAfterCommit]);
    try {
      const note = Object.assign(new Note(), { body: "march" });
      failNextPublish = true;
      await expect(note.file.save("march.pdf", Buffer.from("pdf"))).rejects.toThrow("message bus unavailable");
      const row = await ds.getRepository(Note).findOneByOrFail({ body: "march" });
      expect(row.file.name).toBe("march.pdf");
      expect(note.file.name).toBe("march.pdf");
      expect(await media.exists("march.pdf")).toBe(true);
    } finally {
      await ds.destroy();
    }
  });
});

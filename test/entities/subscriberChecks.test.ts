import { Column, DataSource, Entity, PrimaryGeneratedColumn } from "typeorm";
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

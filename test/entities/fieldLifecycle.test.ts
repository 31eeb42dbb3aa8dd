import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Readable } from "node:stream";
import { type DataSource, In } from "typeorm";
import {
  EmptyFileFieldError,
  FieldFile,
  FileFieldSubscriber,
  FileSystemStorage,
  InMemoryStorage,
  InvalidKeyError,
  StorageConfigError,
  storages,
} from "../../src";
import { DB, openDataSource } from "../support/dataSource";
import { Article, Avatar, Document, Dossier, Folder, Memo, Page } from "./entities";

let ds: DataSource;
let media: InMemoryStorage;
let secret: InMemoryStorage;

const ym = () => {
  const now = new Date();
  return `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
};

beforeAll(async () => {
  ds = await openDataSource([Document, Avatar, Article, Dossier, Folder, Page, Memo], [FileFieldSubscriber]);
});

afterAll(async () => {
  await ds?.destroy();
});

beforeEach(async () => {
  media = new InMemoryStorage({ baseUrl: "/media/" });
  secret = new InMemoryStorage({ baseUrl: "/private-media/" });
  storages.configure({ default: media, private: secret });
  // Each test starts with empty storages, and so with no rows: a row left by an earlier test naming a
  // key would, rightly, keep a new file of that name from being deleted (cleanup.ts).
  for (const entity of [Page, Folder, Document, Avatar, Article, Dossier, Memo])
    await ds.getRepository(entity).createQueryBuilder().delete().execute();
});

const docs = () => ds.getRepository(Document);

async function savedDocument(content = "first version"): Promise<Document> {
  const doc = Object.assign(new Document(), { title: "t", ownerId: 7 });
  await doc.attachment.save("report.pdf", Buffer.from(content));
  return doc;
}

describe(`file fields on ${DB}`, () => {
  it("reads an empty FieldFile from a new entity, which refuses bytes and URLs", async () => {
    const doc = new Document();
    expect(doc.attachment).toBeInstanceOf(FieldFile);
    expect(doc.attachment.name).toBeNull();
    expect(doc.attachment.isEmpty).toBe(true);
    expect(() => doc.attachment.url).toThrow(EmptyFileFieldError);
    await expect(doc.attachment.read()).rejects.toBeInstanceOf(EmptyFileFieldError);
    await expect(doc.attachment.size()).rejects.toThrow(/Document\.attachment has no file/);
    expect(await doc.attachment.exists()).toBe(false);
    await expect(doc.attachment.delete()).resolves.toBeUndefined();
    expect(doc.attachment.toJSON()).toBeNull();
  });

  it("uploads, then inserts the row, and loads the key back as a FieldFile", async () => {
    const doc = await savedDocument("hello");
    expect(doc.id).toEqual(expect.any(Number));
    expect(doc.attachment.name).toBe(`documents/${ym()}/report.pdf`);
    expect(doc.attachment.url).toBe(`/media/documents/${ym()}/report.pdf`);
    expect(await media.exists(doc.attachment.name as string)).toBe(true);

    const loaded = await docs().findOneByOrFail({ id: doc.id });
    expect(loaded.attachment).toBeInstanceOf(FieldFile);
    expect(loaded.attachment.name).toBe(doc.attachment.name);
    expect(await loaded.attachment.size()).toBe(5);
    expect((await loaded.attachment.read()).toString()).toBe("hello");
    expect((await loaded.attachment.read({ start: 1, end: 3 })).toString()).toBe("ell");
    const chunks: string[] = [];
    for await (const chunk of loaded.attachment.chunks(2)) chunks.push(chunk.toString());
    expect(chunks).toEqual(["he", "ll", "o"]);
    expect((await loaded.attachment.stat()).contentType).toBe("application/pdf");
  });

  it("builds private keys with the uploadTo function and the cleaned filename", async () => {
    const doc = Object.assign(new Document(), { ownerId: 42 });
    await doc.contract.save("../../My Contract (final).pdf", Buffer.from("%PDF"));
    expect(doc.contract.name).toBe("users/42/My_Contract_final.pdf");
    expect(await secret.exists("users/42/My_Contract_final.pdf")).toBe(true);
    expect(await media.exists("users/42/My_Contract_final.pdf")).toBe(false);
  });

  it("gives a second upload of the same name a new key instead of overwriting", async () => {
    const a = await savedDocument("a");
    const b = await savedDocument("b");
    expect(b.attachment.name).not.toBe(a.attachment.name);
    expect((await a.attachment.read()).toString()).toBe("a");
    expect((await b.attachment.read()).toString()).toBe("b");
  });

  it("accepts streams of unknown length", async () => {
    const doc = Object.assign(new Document(), { ownerId: 1 });
    await doc.attachment.save("s.bin", Readable.from([Buffer.from("ab"), Buffer.from("cd")]));
    expect(await doc.attachment.size()).toBe(4);
  });

  describe("saves of one entity started together (Promise.all), which persist it one after the other", () => {
    it("insert a new row once, holding the file of each field", async () => {
      const doc = Object.assign(new Document(), { ownerId: 5 });
      const [attachment, contract] = await Promise.all([
        doc.attachment.save("a.pdf", Buffer.from("a")),
        doc.contract.save("c.pdf", Buffer.from("c")),
      ]);
      expect(await docs().count()).toBe(1);
      const row = await docs().findOneByOrFail({ id: doc.id });
      expect([row.attachment.name, row.contract.name]).toEqual([attachment, contract]);
    });

    it("leave one field of a new row with the last file, and delete the one it replaced", async () => {
      const doc = Object.assign(new Document(), { ownerId: 5 });
      const keys = await Promise.all([
        doc.attachment.save("one.pdf", Buffer.from("1")),
        doc.attachment.save("two.pdf", Buffer.from("2")),
      ]);
      expect(await docs().count()).toBe(1);
      const held = (await docs().findOneByOrFail({ id: doc.id })).attachment.name as string;
      expect(keys).toContain(held);
      expect(doc.attachment.name).toBe(held);
      expect(await media.exists(held)).toBe(true);
      expect(await media.exists(keys.find((key) => key !== held) as string)).toBe(false);
    });

    it("let a delete() and a save() started together leave the row and the storage agreeing", async () => {
      const doc = await savedDocument("old");
      const old = doc.attachment.name as string;
      const [, key] = await Promise.all([doc.attachment.delete(), doc.attachment.save("new.pdf", Buffer.from("n"))]);
      const held = (await docs().findOneByOrFail({ id: doc.id })).attachment.name;
      expect(held).toBe(doc.attachment.name);
      expect(await media.exists(old)).toBe(false);
      expect(await media.exists(key)).toBe(held === key);
      expect(await docs().count()).toBe(1);
    });
  });

  it("keeps the key a FieldFile was read with after save(), as the README says, while the property reads the new one", async () => {
    const doc = Object.assign(new Document(), { ownerId: 5 });
    const kept = doc.attachment;
    const key = await kept.save("kept.pdf", Buffer.from("k"));
    expect(kept.name).toBeNull();
    expect(doc.attachment.name).toBe(key);
    expect(doc.attachment).not.toBe(kept);
  });

  it("leaves the column alone when the property was never set", async () => {
    const doc = await savedDocument();
    const key = doc.attachment.name;
    await docs().save(Object.assign(new Document(), { id: doc.id, title: "renamed" }));
    const again = Object.assign(new Document(), { id: doc.id, title: "renamed" });
    await docs().save(again);
    again.title = "renamed";
    await docs().save(again);
    const loaded = await docs().findOneByOrFail({ id: doc.id });
    expect(loaded.title).toBe("renamed");
    expect(loaded.attachment.name).toBe(key);
    expect(await media.exists(key as string)).toBe(true);
  });

  it("leaves the column alone when it was not selected", async () => {
    const doc = await savedDocument();
    const key = doc.attachment.name;
    const partial = await docs().findOneOrFail({ where: { id: doc.id }, select: { id: true, title: true } });
    expect(partial.attachment.isEmpty).toBe(true);
    partial.title = "partial";
    await docs().save(partial);
    const loaded = await docs().findOneByOrFail({ id: doc.id });
    expect(loaded.title).toBe("partial");
    expect(loaded.attachment.name).toBe(key);
    expect(await media.exists(key as string)).toBe(true);
  });

  it("issues no UPDATE when a loaded entity is saved unchanged", async () => {
    const doc = await savedDocument();
    const loaded = await docs().findOneByOrFail({ id: doc.id });
    const queries: string[] = [];
    const runner = ds.createQueryRunner();
    const spy = jest.spyOn(ds.driver, "createQueryRunner").mockImplementation(() => {
      const original = runner.query.bind(runner);
      runner.query = (async (sql: string, ...rest: unknown[]) => {
        queries.push(sql);
        return (original as any)(sql, ...rest);
      }) as typeof runner.query;
      return runner;
    });
    try {
      await docs().save(loaded);
    } finally {
      spy.mockRestore();
      await runner.release();
    }
    expect(queries.filter((q) => /^\s*UPDATE/i.test(q))).toEqual([]);
  });

  it("deletes a replaced file after commit, and keeps it with keepFiles", async () => {
    const doc = await savedDocument("old");
    const oldKey = doc.attachment.name as string;
    await doc.attachment.save("report.pdf", Buffer.from("new"));
    expect(doc.attachment.name).not.toBe(oldKey);
    expect(await media.exists(oldKey)).toBe(false);
    expect((await (await docs().findOneByOrFail({ id: doc.id })).attachment.read()).toString()).toBe("new");

    const avatar = new Avatar();
    await avatar.image.save("a.png", Buffer.from("1"));
    const first = avatar.image.name as string;
    await avatar.image.save("a.png", Buffer.from("2"));
    expect(await media.exists(first)).toBe(true);
  });

  it("never deletes the file of a field the entity did not change, when it writes back a stale key", async () => {
    const doc = await savedDocument("x");
    const x = doc.attachment.name as string;
    const a = await docs().findOneByOrFail({ id: doc.id }); // request A loads the row
    const b = await docs().findOneByOrFail({ id: doc.id }); // request B too, and replaces the file
    const y = await b.attachment.save("report.pdf", Buffer.from("y"));
    expect(await media.exists(x)).toBe(false);
    a.title = "edited by A"; // A changes only the title; TypeORM writes every column that differs
    await docs().save(a);
    expect(await media.exists(y)).toBe(true);
    // a change A makes itself replaces (and deletes) what the row holds, as before
    a.attachment.assign(null);
    await docs().save(a);
    expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBeNull();
  });

  describe("a key that leaves one field for another of the same row", () => {
    const articles = () => ds.getRepository(Article);

    it("is kept when your code moves it to the other field", async () => {
      const article = Object.assign(new Article(), { title: "t" });
      const key = await article.draft.save("text.pdf", Buffer.from("draft"));
      const loaded = await articles().findOneByOrFail({ id: article.id });
      loaded.published = loaded.draft;
      loaded.draft.assign(null);
      await articles().save(loaded);
      expect((await articles().findOneByOrFail({ id: article.id })).published.name).toBe(key);
      expect(await media.exists(key)).toBe(true);
    });

    it("is kept when the two fields swap keys", async () => {
      const article = Object.assign(new Article(), { title: "t" });
      const one = await article.draft.save("one.pdf", Buffer.from("1"), { save: false });
      const two = await article.published.save("two.pdf", Buffer.from("2"), { save: false });
      await articles().save(article);
      const loaded = await articles().findOneByOrFail({ id: article.id });
      loaded.draft.assign(two);
      loaded.published.assign(one);
      await articles().save(loaded);
      const row = await articles().findOneByOrFail({ id: article.id });
      expect([row.draft.name, row.published.name]).toEqual([two, one]);
      expect([await media.exists(one), await media.exists(two)]).toEqual([true, true]);
    });
  });

  it("keeps a replaced file the field points back at before its transaction commits", async () => {
    const doc = await savedDocument("x");
    const x = doc.attachment.name as string;
    let y = "";
    await ds.transaction(async (em) => {
      y = await doc.attachment.save("report.pdf", Buffer.from("y"), { manager: em }); // x queued as replaced
      doc.attachment.assign(x); // back to x: y is the one replaced now
      await em.save(doc);
    });
    expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBe(x);
    expect(await media.exists(x)).toBe(true);
    expect(await media.exists(y)).toBe(false);
  });

  describe("values copied in by create(), merge() and preload(), which are your assignments", () => {
    it("replace a loaded row's file, which merge() then deletes after commit", async () => {
      const doc = await savedDocument("old");
      const old = doc.attachment.name as string;
      await media.save("library/b.txt", Buffer.from("b"));
      const loaded = await docs().findOneByOrFail({ id: doc.id });
      docs().merge(loaded, { attachment: "library/b.txt" as unknown as FieldFile });
      await docs().save(loaded);
      expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBe("library/b.txt");
      expect(await media.exists(old)).toBe(false);
      expect(await media.exists("library/b.txt")).toBe(true);
    });

    it("clear the row's file with a null from preload(), deleting it after commit", async () => {
      const doc = await savedDocument();
      const old = doc.attachment.name as string;
      const merged = await docs().preload({ id: doc.id, attachment: null as unknown as FieldFile });
      expect(merged?.attachment.isEmpty).toBe(true);
      await docs().save(merged as Document);
      expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBeNull();
      expect(await media.exists(old)).toBe(false);
    });

    it("clear the column with a null from create(), as for any nullable column", async () => {
      const doc = await savedDocument();
      const created = docs().create({ id: doc.id, title: "t", attachment: null as unknown as FieldFile });
      await docs().save(created);
      expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBeNull();
      // a plain object is not an entity: TypeORM writes its null, and no file is deleted (README)
      const other = await savedDocument();
      await docs().save({ id: other.id, attachment: null as unknown as FieldFile });
      expect((await docs().findOneByOrFail({ id: other.id })).attachment.name).toBeNull();
    });

    it("are checked as an assignment to the property is, and leave a loaded row's own key unchanged", async () => {
      const doc = await savedDocument();
      const loaded = await docs().findOneByOrFail({ id: doc.id });
      expect(() => docs().merge(loaded, { attachment: "../etc/passwd" as unknown as FieldFile })).toThrow(
        InvalidKeyError,
      );
      expect(() => docs().create({ attachment: JSON.parse(JSON.stringify(doc.attachment)) as FieldFile })).toThrow(
        /FieldFile's JSON\?\)\. Assign its name/,
      );
      expect(loaded.attachment.name).toBe(doc.attachment.name);
      // a later load is a load again: the row it reads is not changed by your code
      const again = await docs().findOneByOrFail({ id: doc.id });
      again.title = "renamed";
      await docs().save(again);
      expect(await media.exists(doc.attachment.name as string)).toBe(true);
    });
  });

  it("clears the column and deletes the object after commit on delete()", async () => {
    const doc = await savedDocument();
    const key = doc.attachment.name as string;
    const loaded = await docs().findOneByOrFail({ id: doc.id });
    await loaded.attachment.delete();
    expect(loaded.attachment.isEmpty).toBe(true);
    expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBeNull();
    expect(await media.exists(key)).toBe(false);
  });

  it("points the field back at the row's file when delete() rolls back, so saving again keeps both", async () => {
    const doc = await savedDocument();
    const key = doc.attachment.name as string;
    await expect(
      ds.transaction(async (em) => {
        await doc.attachment.delete({ manager: em });
        expect(doc.attachment.isEmpty).toBe(true);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(doc.attachment.name).toBe(key);
    doc.title = "edited after the rollback";
    await docs().save(doc);
    expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBe(key);
    expect(await media.exists(key)).toBe(true);
  });

  it("keeps a file another row still names when one row replaces it or is removed, and deletes it with the last", async () => {
    const first = await savedDocument();
    const key = first.attachment.name as string;
    const second = Object.assign(new Document(), { title: "copy", ownerId: 7 });
    second.attachment = first.attachment; // assigning a FieldFile copies its key
    const third = Object.assign(new Document(), { title: "copy 2", ownerId: 7 });
    third.attachment = first.attachment;
    await docs().save([second, third]);
    await docs().remove(first);
    expect(await media.exists(key)).toBe(true);
    await second.attachment.save("other.pdf", Buffer.from("other")); // replaced: third still names it
    expect(await media.exists(key)).toBe(true);
    await docs().remove(third);
    expect(await media.exists(key)).toBe(false);
  });

  it("deletes the objects of a removed row after commit", async () => {
    const doc = await savedDocument();
    await doc.contract.save("c.pdf", Buffer.from("c"));
    const keys = [doc.attachment.name as string, doc.contract.name as string];
    await docs().remove(await docs().findOneByOrFail({ id: doc.id }));
    expect(await media.exists(keys[0])).toBe(false);
    expect(await secret.exists(keys[1])).toBe(false);
  });

  describe("a select: false file column, which TypeORM leaves out of the row it compares with", () => {
    const dossiers = () => ds.getRepository(Dossier);

    it("has its replaced file deleted after commit, and an unchanged one kept", async () => {
      const dossier = Object.assign(new Dossier(), { title: "d" });
      const old = await dossier.scan.save("a.txt", "a");
      const fresh = await dossier.scan.save("b.txt", "b");
      const row = await dossiers().createQueryBuilder("d").addSelect("d.scan").getOneOrFail();
      expect(row.scan.name).toBe(fresh);
      expect(await media.exists(old)).toBe(false);
      // saved again as it is, in a transaction: the same key is no replacement
      row.title = "renamed";
      await ds.transaction((em) => em.save(row));
      expect(await media.exists(fresh)).toBe(true);
      // a row loaded without it leaves the column alone
      const plain = await dossiers().findOneByOrFail({ id: dossier.id });
      expect(plain.scan.name).toBeNull();
      await dossiers().save(Object.assign(plain, { title: "again" }));
      expect(await media.exists(fresh)).toBe(true);
    });

    it("has the replaced files of several rows saved at once deleted", async () => {
      const saved = [new Dossier(), new Dossier()];
      const old = [await saved[0].scan.save("a.txt", "a"), await saved[1].scan.save("b.txt", "b")];
      const rows = await dossiers()
        .createQueryBuilder("d")
        .addSelect("d.scan")
        .whereInIds(saved.map((d) => d.id))
        .getMany();
      for (const row of rows) row.scan.assign(`library/${row.id}.txt`);
      await dossiers().save(rows);
      for (const key of old) expect(await media.exists(key)).toBe(false);
    });

    it("has its file deleted after commit when the row is removed, however it was loaded", async () => {
      const dossier = Object.assign(new Dossier(), { title: "d" });
      const key = await dossier.scan.save("a.txt", "a");
      await dossiers().remove(dossier);
      expect(await media.exists(key)).toBe(false);
      const other = Object.assign(new Dossier(), { title: "e" });
      const otherKey = await other.scan.save("b.txt", "b");
      await dossiers().remove(await dossiers().findOneByOrFail({ id: other.id }));
      expect(await media.exists(otherKey)).toBe(false);
    });
  });

  it("deletes the files of rows TypeORM removes as orphans (orphanedRowAction: delete), after commit", async () => {
    const folder = new Folder();
    folder.pages = [new Page(), new Page()];
    await ds.getRepository(Folder).save(folder);
    const [kept, dropped] = folder.pages;
    const keys = [await kept.scan.save("1.txt", "1"), await dropped.scan.save("2.txt", "2")];
    const loaded = await ds
      .getRepository(Folder)
      .findOneOrFail({ where: { id: folder.id }, relations: { pages: true } });
    loaded.pages = loaded.pages.filter((page) => page.id === kept.id);
    await ds.getRepository(Folder).save(loaded);
    expect(await ds.getRepository(Page).countBy({ id: dropped.id })).toBe(0);
    expect(await media.exists(keys[1])).toBe(false);
    expect(await media.exists(keys[0])).toBe(true);
  });

  it("deletes none of the keys an entity holds when its row is already gone", async () => {
    const doc = await savedDocument();
    const key = doc.attachment.name as string;
    const stale = await docs().findOneByOrFail({ id: doc.id });
    await docs().delete({ id: doc.id }); // criteria deletes leave the file (README), for orphans to sweep
    await media.save("library/shared.txt", Buffer.from("s"));
    stale.attachment.assign("library/shared.txt"); // a key another row may hold
    await docs().remove(stale);
    expect(await media.exists("library/shared.txt")).toBe(true);
    expect(await media.exists(key)).toBe(true);
  });

  it("deletes the new upload and restores the field when its transaction rolls back", async () => {
    const doc = await savedDocument("kept");
    const oldKey = doc.attachment.name as string;
    let newKey = "";
    await expect(
      ds.transaction(async (em) => {
        newKey = await doc.attachment.save("report.pdf", Buffer.from("new"), { manager: em });
        expect(await media.exists(newKey)).toBe(true);
        expect(await media.exists(oldKey)).toBe(true); // deletions wait for the commit
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await media.exists(newKey)).toBe(false);
    expect(await media.exists(oldKey)).toBe(true);
    expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBe(oldKey);
    // the entity in memory points back at the file it had, so saving it again loses nothing
    expect(doc.attachment.name).toBe(oldKey);
    doc.title = "edited after the rollback";
    await docs().save(doc);
    expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBe(oldKey);
    expect(await media.exists(oldKey)).toBe(true);
  });

  it("points a field replaced twice in a rolled-back transaction back at its first file, and a new row's at nothing", async () => {
    const doc = await savedDocument("kept");
    const oldKey = doc.attachment.name as string;
    const fresh = Object.assign(new Document(), { title: "new", ownerId: 3 });
    await expect(
      ds.transaction(async (em) => {
        await doc.attachment.save("a.pdf", Buffer.from("a"), { manager: em });
        await doc.attachment.save("b.pdf", Buffer.from("b"), { manager: em });
        await fresh.attachment.save("fresh.pdf", Buffer.from("f"), { manager: em });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(doc.attachment.name).toBe(oldKey);
    expect(fresh.attachment.name).toBeNull();
    expect(await media.listdir(`documents/${ym()}`)).toEqual({ directories: [], files: [oldKey.split("/").pop()] });
  });

  describe("saves given TypeORM's data option (save(entity, { data }), for subscribers)", () => {
    it("delete the file a save replaced in your transaction once it commits, and undo it if it rolls back", async () => {
      const doc = await savedDocument("v1");
      const v1 = doc.attachment.name as string;
      const v2 = await doc.attachment.save("v2.pdf", Buffer.from("v2"), { save: false });
      await expect(
        ds.transaction(async (em) => {
          await em.save(doc, { data: { user: 1 } });
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      expect(await media.exists(v2)).toBe(false);
      expect(doc.attachment.name).toBe(v1);

      const v3 = await doc.attachment.save("v3.pdf", Buffer.from("v3"), { save: false });
      await ds.transaction((em) => em.save(doc, { data: { user: 1 } }));
      expect(await media.exists(v1)).toBe(false);
      expect(await media.exists(v3)).toBe(true);
    });

    // two transactions at once on one connection's database: not on sql.js
    (DB === "sqljs" ? it.skip : it)(
      "keep each transaction's uploads to itself when concurrent saves share one data object",
      async () => {
        const context = { user: 1 };
        const a = await savedDocument("a");
        const b = await savedDocument("b");
        const b1 = b.attachment.name as string;
        await a.attachment.save("a2.pdf", Buffer.from("a2"), { save: false });
        const b2 = await b.attachment.save("b2.pdf", Buffer.from("b2"), { save: false });
        const runner = ds.createQueryRunner();
        await runner.connect();
        try {
          await runner.startTransaction();
          await runner.manager.save(b, { data: context });
          // meanwhile another save with the same data object fails and rolls back its own transaction
          (a as unknown as { ownerId: unknown }).ownerId = "not a number";
          await expect(docs().save(a, { data: context })).rejects.toThrow();
          await runner.commitTransaction();
        } finally {
          await runner.release();
        }
        expect((await docs().findOneByOrFail({ id: b.id })).attachment.name).toBe(b2);
        expect(await media.exists(b2)).toBe(true);
        expect(b.attachment.name).toBe(b2);
        expect(await media.exists(b1)).toBe(false);
      },
    );
  });

  it("never deletes an assigned existing key on rollback", async () => {
    await media.save("shared/logo.png", Buffer.from("logo"));
    const doc = Object.assign(new Document(), { ownerId: 1 });
    await expect(
      ds.transaction(async (em) => {
        doc.attachment.assign("shared/logo.png");
        await em.save(doc);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await media.exists("shared/logo.png")).toBe(true);
  });

  it("keeps deletions until the outermost commit and undoes only the rolled-back savepoint", async () => {
    const doc = await savedDocument("v1");
    const v1 = doc.attachment.name as string;
    const other = await savedDocument("other");
    const runner = ds.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const v2 = await doc.attachment.save("report.pdf", Buffer.from("v2"), { manager: runner.manager });
      await runner.startTransaction();
      const inner = await other.attachment.save("inner.pdf", Buffer.from("inner"), { manager: runner.manager });
      await runner.rollbackTransaction();
      expect(await media.exists(inner)).toBe(false);
      expect(other.attachment.name).not.toBe(inner);
      await runner.manager.save(other); // the outer transaction goes on with the entity
      expect(await media.exists(other.attachment.name as string)).toBe(true);
      expect(await media.exists(v2)).toBe(true);
      expect(await media.exists(v1)).toBe(true);
      await runner.commitTransaction();
      expect(await media.exists(v1)).toBe(false);
      expect(await media.exists(v2)).toBe(true);
    } finally {
      await runner.release();
    }
  });

  it("keeps an upload that a rolled-back savepoint copied to another row while the outer transaction's row holds it", async () => {
    const original = Object.assign(new Document(), { title: "original" });
    let key = "";
    await ds.transaction(async (em) => {
      key = await original.attachment.save("cat.jpg", Buffer.from("cat"), { manager: em });
      const copy = Object.assign(new Document(), { title: "copy" });
      copy.attachment = original.attachment; // assigning a FieldFile copies its key
      await em
        .transaction(async (inner) => {
          await inner.save(copy);
          throw new Error("copy refused");
        })
        .catch(() => undefined);
      expect(original.attachment.name).toBe(key);
    });
    expect((await docs().findOneByOrFail({ id: original.id })).attachment.name).toBe(key);
    expect(await media.exists(key)).toBe(true);
  });

  it("deletes the upload and keeps the previous value when the row cannot be written", async () => {
    const doc = await savedDocument();
    const previous = doc.attachment.name;
    const before = (await media.listdir(`documents/${ym()}`)).files.length;
    const failing = jest.spyOn(ds.manager, "save").mockRejectedValueOnce(new Error("db down"));
    try {
      await expect(doc.attachment.save("report.pdf", Buffer.from("x"), { manager: ds.manager })).rejects.toThrow(
        "db down",
      );
    } finally {
      failing.mockRestore();
    }
    expect(doc.attachment.name).toBe(previous);
    expect((await media.listdir(`documents/${ym()}`)).files.length).toBe(before);
  });

  describe("on a storage with fileOverwrite, where an upload may replace a committed row's file", () => {
    beforeEach(() => {
      // django-storages' default (AWS_S3_FILE_OVERWRITE=true)
      media = new InMemoryStorage({ fileOverwrite: true });
      storages.configure({ default: media, private: secret });
    });

    it("keeps another row's file when an upload of the same name rolls back", async () => {
      const first = await savedDocument("v1");
      const key = first.attachment.name as string;
      const second = Object.assign(new Document(), { title: "second" });
      await expect(
        ds.transaction(async (em) => {
          expect(await second.attachment.save("report.pdf", Buffer.from("v2"), { manager: em })).toBe(key);
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      expect(second.attachment.name).toBeNull();
      expect((await docs().findOneByOrFail({ id: first.id })).attachment.name).toBe(key);
      expect(await media.exists(key)).toBe(true);
    });

    it("keeps the row's own file when an upload of the same name cannot be written", async () => {
      const doc = await savedDocument("v1");
      const key = doc.attachment.name as string;
      const failing = jest.spyOn(ds.manager, "save").mockRejectedValueOnce(new Error("db down"));
      try {
        await expect(doc.attachment.save("report.pdf", Buffer.from("v2"), { manager: ds.manager })).rejects.toThrow(
          "db down",
        );
      } finally {
        failing.mockRestore();
      }
      expect(doc.attachment.name).toBe(key);
      expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBe(key);
      expect(await media.exists(key)).toBe(true);
    });

    it("keeps another row's file when an upload of the same name made with save: false is let go of", async () => {
      const first = await savedDocument("v1");
      const key = first.attachment.name as string;
      const second = Object.assign(new Document(), { title: "second" });
      await second.attachment.save("report.pdf", Buffer.from("v2"), { save: false });
      const other = await second.attachment.save("other.pdf", Buffer.from("other"), { save: false });
      await docs().save(second);
      expect((await docs().findOneByOrFail({ id: second.id })).attachment.name).toBe(other);
      expect(await media.exists(key)).toBe(true);
    });
  });

  it("refuses an uploadTo result that escapes, before uploading anything", async () => {
    const doc = Object.assign(new Document(), { ownerId: "../../etc" as unknown as number });
    await expect(doc.contract.save("x.pdf", Buffer.from("x"))).rejects.toBeInstanceOf(InvalidKeyError);
    expect(await secret.listdir("")).toEqual({ directories: [], files: [] });
  });

  it("uploads without persisting on save: false, and persists with the next save", async () => {
    const doc = Object.assign(new Document(), { ownerId: 3 });
    const key = await doc.attachment.save("later.txt", "later", { save: false });
    expect(doc.id).toBeUndefined();
    await docs().save(doc);
    expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBe(key);
  });

  describe("an upload made with save: false that its field lets go of before any row holds it", () => {
    it("is deleted when the save that writes the row commits, not before", async () => {
      const doc = Object.assign(new Document(), { ownerId: 3 });
      const first = await doc.attachment.save("first.txt", "1", { save: false });
      const second = await doc.attachment.save("second.txt", "2", { save: false });
      expect(await media.exists(first)).toBe(true);
      await docs().save(doc);
      expect(await media.exists(first)).toBe(false);
      expect(await media.exists(second)).toBe(true);
      expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBe(second);
    });

    it("is deleted when an assignment replaced it, and kept when the field points at it again", async () => {
      const doc = await savedDocument("kept");
      const kept = doc.attachment.name as string;
      const draft = await doc.attachment.save("draft.txt", "draft", { save: false });
      const taken = await doc.attachment.save("taken-back.txt", "back", { save: false });
      doc.attachment.assign(null);
      doc.attachment.assign(taken);
      doc.attachment.assign(kept); // back to what the row holds
      doc.title = "edited";
      await docs().save(doc);
      expect(await media.exists(draft)).toBe(false);
      expect(await media.exists(taken)).toBe(false);
      expect(await media.exists(kept)).toBe(true);

      const again = await doc.attachment.save("again.txt", "again", { save: false });
      doc.attachment.assign(null);
      doc.attachment.assign(again);
      await docs().save(doc);
      expect(await media.exists(again)).toBe(true);
      expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBe(again);
    });

    it("is kept when another entity or field took its key", async () => {
      const a = Object.assign(new Document(), { ownerId: 1 });
      const b = Object.assign(new Document(), { ownerId: 2 });
      const key = await a.attachment.save("shared.txt", "s", { save: false });
      b.attachment = a.attachment; // assigning a FieldFile copies its key
      a.attachment.assign(null);
      await docs().save(a);
      expect(await media.exists(key)).toBe(true);
      await docs().save(b);
      expect((await docs().findOneByOrFail({ id: b.id })).attachment.name).toBe(key);
      expect(await media.exists(key)).toBe(true);
    });

    it("survives a rolled-back save, which points the field back at it", async () => {
      const doc = Object.assign(new Document(), { ownerId: 4 });
      const draft = await doc.attachment.save("draft.txt", "draft", { save: false });
      let rolledBack = "";
      await expect(
        ds.transaction(async (em) => {
          rolledBack = await doc.attachment.save("final.txt", "final", { manager: em });
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      expect(await media.exists(rolledBack)).toBe(false);
      expect(await media.exists(draft)).toBe(true);
      expect(doc.attachment.name).toBe(draft);
      await docs().save(doc);
      expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBe(draft);
      expect(await media.exists(draft)).toBe(true);
    });

    it("is deleted with the row when the entity is removed, and kept with keepFiles", async () => {
      const doc = await savedDocument("row");
      const row = doc.attachment.name as string;
      const draft = await doc.attachment.save("draft.txt", "draft", { save: false });
      await docs().remove(doc);
      expect(await media.exists(row)).toBe(false);
      expect(await media.exists(draft)).toBe(false);

      const avatar = new Avatar();
      const kept = await avatar.image.save("a.png", Buffer.from("1"), { save: false });
      await avatar.image.save("b.png", Buffer.from("2"));
      expect(await media.exists(kept)).toBe(true);
    });
  });

  it("serialises loaded file fields through toJSON", async () => {
    const doc = await savedDocument();
    const loaded = await docs().findOneByOrFail({ id: doc.id });
    const json = JSON.parse(JSON.stringify(loaded));
    expect(json.attachment).toEqual({ name: doc.attachment.name, url: `/media/${doc.attachment.name}` });
    expect(json.contract).toBeNull();
    expect(Object.keys(loaded)).toContain("attachment");
  });

  it("keeps its bookkeeping invisible: copies get their own state, equality ignores cached files", async () => {
    const doc = await savedDocument();
    const loaded = await docs().findOneByOrFail({ id: doc.id });
    const twin = await docs().findOneByOrFail({ id: doc.id });
    expect(loaded.attachment.url).toBe(`/media/${doc.attachment.name}`); // caches a FieldFile on `loaded` only
    expect(loaded).toEqual(twin);
    expect(
      Object.getOwnPropertySymbols(loaded).filter((key) => Object.prototype.propertyIsEnumerable.call(loaded, key)),
    ).toEqual([]);

    const copy = Object.assign(new Document(), loaded);
    expect(copy.attachment.name).toBe(doc.attachment.name);
    copy.attachment.assign(null);
    expect(copy.attachment.isEmpty).toBe(true);
    expect(loaded.attachment.name).toBe(doc.attachment.name);

    const plain = { ...loaded };
    expect(plain.attachment).toBe(loaded.attachment);
  });

  it("works through a proxy of the entity (Vue's reactive(), MobX), reading and assigning the same state", async () => {
    const doc = await savedDocument();
    const loaded = await docs().findOneByOrFail({ id: doc.id });
    const proxy = new Proxy(loaded, {});
    expect(proxy.attachment.name).toBe(doc.attachment.name);
    proxy.attachment.assign("elsewhere/through-proxy.txt");
    expect(loaded.attachment.name).toBe("elsewhere/through-proxy.txt");
  });

  it("points a field at an existing key, or clears it, with assign() and no I/O", async () => {
    const doc = await savedDocument();
    const spy = jest.spyOn(media, "exists");
    doc.attachment.assign("elsewhere/file.txt");
    expect(doc.attachment.name).toBe("elsewhere/file.txt");
    expect(() => doc.attachment.assign("../x")).toThrow(InvalidKeyError);
    doc.attachment.assign(null);
    expect(doc.attachment.isEmpty).toBe(true);
    expect(spy).not.toHaveBeenCalled();
  });

  it("checks a key your code assigns to the property as assign() does, and against the column's maxLength", async () => {
    const doc = await savedDocument();
    const before = doc.attachment.name;
    for (const bad of ["../etc/passwd", "/abs/key", "dir\\file", "a//b"]) {
      expect(() => {
        (doc as { attachment: unknown }).attachment = bad;
      }).toThrow(InvalidKeyError);
    }
    expect(doc.attachment.name).toBe(before);
    // a FieldFile's JSON sent back by a client: the message says to assign its name
    expect(() => {
      (doc as { attachment: unknown }).attachment = JSON.parse(JSON.stringify(doc.attachment));
    }).toThrow(/FieldFile's JSON\?\)\. Assign its name/);
    const avatar = new Avatar();
    const long = `${"x".repeat(37)}.png`; // 41 characters, on a maxLength 40 column
    expect(() => avatar.image.assign(long)).toThrow(/holds at most 40 characters/);
    expect(() => {
      (avatar as { image: unknown }).image = long;
    }).toThrow(InvalidKeyError);
    (avatar as { image: unknown }).image = long.slice(1);
    expect(avatar.image.name).toBe(long.slice(1));
    // a FieldFile's key is checked the same way
    const longer = Object.assign(new Document(), { ownerId: 5 });
    longer.attachment.assign(`docs/${"y".repeat(45)}.png`);
    expect(() => {
      avatar.image = longer.attachment;
    }).toThrow(/holds at most 40 characters/);
  });

  it("refuses a FieldFile of another storage, whose key would point at nothing, and copies one of the same", async () => {
    const doc = await savedDocument();
    await doc.contract.save("contract.pdf", Buffer.from("private"));
    const other = Object.assign(new Document(), { ownerId: 8 });
    const error = (() => {
      try {
        other.attachment = doc.contract; // private storage into a public field
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidKeyError);
    expect((error as Error).message).toMatch(
      /Document\.attachment keeps its files in storage "default", but the FieldFile assigned to it is in storage "private"/,
    );
    expect(other.attachment.isEmpty).toBe(true);
    other.attachment = doc.attachment;
    expect(other.attachment.name).toBe(doc.attachment.name);
    other.contract = new FieldFile(null, secret); // an empty FieldFile clears, whatever its storage
    expect(other.contract.isEmpty).toBe(true);
  });

  it("clears a field left out of the select on delete(), and deletes its file after commit", async () => {
    const doc = await savedDocument();
    const key = doc.attachment.name as string;
    const partial = await docs().findOneOrFail({ where: { id: doc.id }, select: { id: true, title: true } });
    expect(partial.attachment.name).toBeNull();
    await partial.attachment.delete();
    expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBeNull();
    expect(await media.exists(key)).toBe(false);
    // a new entity's empty field stays a no-op: nothing to clear, no row to write
    const fresh = new Document();
    await fresh.attachment.delete();
    expect(fresh.id).toBeUndefined();
  });

  it("stores an empty non-nullable field as '' and reads it as empty", async () => {
    const avatar = await ds.getRepository(Avatar).save(new Avatar());
    const raw = await ds
      .getRepository(Avatar)
      .createQueryBuilder("a")
      .where("a.id = :id", { id: avatar.id })
      .getRawOne();
    expect(raw.a_image).toBe("");
    const loaded = await ds.getRepository(Avatar).findOneByOrFail({ id: avatar.id });
    expect(loaded.image.isEmpty).toBe(true);
  });

  it("names the configured storages when a field's storage is missing, and never falls back for private", async () => {
    storages.configure({ default: media });
    const doc = Object.assign(new Document(), { ownerId: 1 });
    const error = await doc.contract.save("c.pdf", Buffer.from("c")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageConfigError);
    expect((error as Error).message).toMatch(/No storage named "private".*"default".*never falls back/s);
  });

  describe("a file field whose storage this process has not configured (a worker configuring only what it uses)", () => {
    /** A saved document holding a file in each field, loaded again where only "default" is configured. */
    async function loadedWithoutPrivate(): Promise<{ loaded: Document; contract: string }> {
      const doc = await savedDocument();
      const contract = await doc.contract.save("c.pdf", Buffer.from("c"));
      storages.configure({ default: media });
      return { loaded: await docs().findOneByOrFail({ id: doc.id }), contract };
    }

    /** The refusal: names the field and its storage, says what to do, and carries the registry's error. */
    function expectRefused(error: unknown, field: string, storage: string, doing: RegExp): void {
      expect(error).toBeInstanceOf(StorageConfigError);
      const refusal = error as StorageConfigError;
      expect(refusal.storage).toBe(storage);
      expect(refusal.message).toContain(`${field} keeps its files on storage "${storage}"`);
      expect(refusal.message).toMatch(doing);
      expect(refusal.message).toMatch(/nothing was written.*storages\.configure\(\).*keepFiles: true/s);
      expect(refusal.cause).toBeInstanceOf(StorageConfigError);
      expect((refusal.cause as Error).message).toMatch(new RegExp(`No storage named "${storage}"`));
    }

    it("saves a row whose other file field's storage is not configured here, when the save leaves that field alone", async () => {
      const doc = await savedDocument();
      await doc.contract.save("c.pdf", Buffer.from("c"));
      const contract = doc.contract.name as string;
      // a process (a worker) that configures only the storages it uses loads the row and edits its title
      storages.configure({ default: media });
      const loaded = await docs().findOneByOrFail({ id: doc.id });
      expect(loaded.contract.name).toBe(contract);
      loaded.title = "edited";
      await docs().save(loaded);
      expect((await docs().findOneByOrFail({ id: doc.id })).title).toBe("edited");
      // a new attachment, on the storage it has, replaces the old one as ever
      const first = loaded.attachment.name as string;
      await loaded.attachment.save("next.pdf", Buffer.from("n"));
      expect(await media.exists(first)).toBe(false);
      // removing the row would leave its private file behind: refused, naming the missing storage
      const error = await docs()
        .remove(loaded)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageConfigError);
      expect((error as Error).message).toMatch(/No storage named "private"/);
      expect(await docs().countBy({ id: doc.id })).toBe(1);
      storages.configure({ default: media, private: secret });
      await docs().remove(await docs().findOneByOrFail({ id: doc.id }));
      expect(await secret.exists(contract)).toBe(false);
    });

    it("refuses to remove a row holding a file there before the DELETE, leaving the row, the entity and the file", async () => {
      const { loaded, contract } = await loadedWithoutPrivate();
      const { id } = loaded;
      for (const options of [{}, { transaction: false }]) {
        const error = await docs()
          .remove(loaded, options)
          .catch((e: unknown) => e);
        expectRefused(error, "Document.contract", "private", /removing the row would leave its file ".*c\.pdf" behind/);
        expect(loaded.id).toBe(id);
        expect(await docs().countBy({ id })).toBe(1);
      }
      expect(await secret.exists(contract)).toBe(true);
      expect(await media.exists(loaded.attachment.name as string)).toBe(true);
      // configured, the same entity is removed, without loading it again
      storages.configure({ default: media, private: secret });
      await docs().remove(loaded);
      expect(await docs().countBy({ id })).toBe(0);
      expect(await secret.exists(contract)).toBe(false);
    });

    it("refuses the removal inside your transaction before the DELETE, so that committing the rest keeps the row", async () => {
      const { loaded, contract } = await loadedWithoutPrivate();
      const { id } = loaded;
      await ds.transaction(async (em) => {
        const error = await em.remove(loaded).catch((e: unknown) => e);
        expectRefused(error, "Document.contract", "private", /removing the row/);
        await em.save(Object.assign(new Document(), { title: "saved with it" }));
      });
      expect(loaded.id).toBe(id);
      expect((await docs().findOneByOrFail({ id })).contract.name).toBe(contract);
      expect(await docs().countBy({ title: "saved with it" })).toBe(1);
      expect(await secret.exists(contract)).toBe(true);
    });

    it("refuses a removal of several rows as a whole when one of them holds a file there, removing none", async () => {
      const { loaded, contract } = await loadedWithoutPrivate();
      const plain = await savedDocument("no contract");
      const ids = [plain.id, loaded.id];
      const plainKey = plain.attachment.name as string;
      for (const options of [{}, { transaction: false }]) {
        const error = await docs()
          .remove([plain, loaded], options)
          .catch((e: unknown) => e);
        expectRefused(error, "Document.contract", "private", /removing the row/);
        expect([plain.id, loaded.id]).toEqual(ids);
        expect(await docs().countBy({ id: In(ids) })).toBe(2);
      }
      expect(await media.exists(plainKey)).toBe(true);
      expect(await secret.exists(contract)).toBe(true);
    });

    it("refuses a cascaded removal, or an orphan's, whose related row holds a file there, before any row goes", async () => {
      const folders = ds.getRepository(Folder);
      const folder = new Folder();
      folder.pages = [new Page(), new Page()];
      await folders.save(folder);
      const [scanned, blank] = folder.pages;
      const key = await scanned.scan.save("1.txt", "1");
      storages.configure({ private: secret });
      const loaded = await folders.findOneOrFail({ where: { id: folder.id }, relations: { pages: true } });
      const error = await folders.remove(loaded).catch((e: unknown) => e);
      expectRefused(error, "Page.scan", "default", /removing the row/);
      expect(loaded.id).toBe(folder.id);
      expect(await folders.countBy({ id: folder.id })).toBe(1);
      expect(await ds.getRepository(Page).countBy({ id: In([scanned.id, blank.id]) })).toBe(2);
      // a page TypeORM deletes as an orphan (orphanedRowAction: "delete"), a row it never loads
      loaded.pages = loaded.pages.filter((page) => page.id === blank.id);
      const orphaned = await folders.save(loaded).catch((e: unknown) => e);
      expectRefused(orphaned, "Page.scan", "default", /removing the row/);
      expect(await ds.getRepository(Page).countBy({ id: scanned.id })).toBe(1);
      expect(await media.exists(key)).toBe(true);
      storages.configure({ default: media, private: secret });
      await folders.remove(await folders.findOneOrFail({ where: { id: folder.id }, relations: { pages: true } }));
      expect(await ds.getRepository(Page).countBy({ id: In([scanned.id, blank.id]) })).toBe(0);
      expect(await media.exists(key)).toBe(false);
    });

    it("removes rows whose fields there are empty or keep their files (keepFiles), and soft-removes any row", async () => {
      const avatar = new Avatar();
      const image = await avatar.image.save("a.png", Buffer.from("1"));
      const memo = new Memo();
      const note = await memo.note.save("n.txt", "n");
      const doc = await savedDocument("no contract");
      const attachment = doc.attachment.name as string;
      storages.configure({ default: media });
      await docs().remove(doc);
      expect(await media.exists(attachment)).toBe(false);
      // softRemove keeps the row, and so its file: nothing to delete, no storage needed
      const memos = ds.getRepository(Memo);
      await memos.softRemove(memo);
      expect(await memos.countBy({ id: memo.id })).toBe(0);
      await memos.recover(memo);
      expect((await memos.findOneByOrFail({ id: memo.id })).note.name).toBe(note);
      expect(await secret.exists(note)).toBe(true);
      // a keepFiles field never deletes its file, so its storage is not needed to remove the row
      storages.configure({ private: secret });
      const { id } = avatar;
      await ds.getRepository(Avatar).remove(avatar);
      expect(await ds.getRepository(Avatar).countBy({ id })).toBe(0);
      expect(await media.exists(image)).toBe(true);
    });

    it("refuses a save that clears or replaces its file before the UPDATE, keeping your change for a retry", async () => {
      const { loaded, contract } = await loadedWithoutPrivate();
      const { id } = loaded;
      // delete() refuses before it clears the field: the file would stay, and a retry would find it empty
      const deleted = await loaded.contract.delete().catch((e: unknown) => e);
      expectRefused(
        deleted,
        "Document.contract",
        "private",
        /clearing the field would leave its file ".*c\.pdf" behind/,
      );
      expect(loaded.contract.name).toBe(contract);
      loaded.contract.assign("users/7/other.pdf");
      for (const options of [{}, { transaction: false }]) {
        const error = await docs()
          .save(loaded, options)
          .catch((e: unknown) => e);
        expectRefused(
          error,
          "Document.contract",
          "private",
          /saving its new value would leave its file ".*c\.pdf" behind/,
        );
        expect((await docs().findOneByOrFail({ id })).contract.name).toBe(contract);
      }
      expect(loaded.contract.name).toBe("users/7/other.pdf");
      expect(await secret.exists(contract)).toBe(true);
      // configured, saving the entity again writes the change and deletes the file it replaced
      storages.configure({ default: media, private: secret });
      await docs().save(loaded);
      expect((await docs().findOneByOrFail({ id })).contract.name).toBe("users/7/other.pdf");
      expect(await secret.exists(contract)).toBe(false);
    });

    it("saves a change to a field that deletes nothing (keepFiles, or an empty field given a key) without it", async () => {
      const avatar = new Avatar();
      const image = await avatar.image.save("a.png", Buffer.from("1"));
      const doc = await savedDocument("no contract");
      storages.configure({ private: secret });
      avatar.image.assign("avatars/other.png");
      await ds.getRepository(Avatar).save(avatar);
      expect((await ds.getRepository(Avatar).findOneByOrFail({ id: avatar.id })).image.name).toBe("avatars/other.png");
      expect(await media.exists(image)).toBe(true);
      storages.configure({ default: media });
      doc.contract.assign("users/7/existing.pdf");
      await docs().save(doc);
      expect((await docs().findOneByOrFail({ id: doc.id })).contract.name).toBe("users/7/existing.pdf");
    });
  });

  it("reports a failed deletion to onCleanupError without failing the committed save", async () => {
    // a name no other test's row holds: a retry is skipped for a key a row holds
    const doc = Object.assign(new Document(), { ownerId: 7 });
    await doc.attachment.save("cleanup-failure.pdf", Buffer.from("first version"));
    const oldKey = doc.attachment.name as string;
    const failures: string[] = [];
    const previous = storages.onCleanupError((error, failure) =>
      failures.push(`${failure.reason}:${failure.key}:${(error as Error).message}`),
    );
    const del = jest.spyOn(media, "delete").mockRejectedValue(new Error("S3 down"));
    let attempts = 0;
    try {
      await doc.attachment.save("report.pdf", Buffer.from("n"));
      attempts = del.mock.calls.length;
    } finally {
      del.mockRestore();
      storages.onCleanupError(previous);
    }
    expect(failures).toEqual([`replaced:${oldKey}:S3 down`]);
    expect(attempts).toBe(3);
    expect(await media.exists(oldKey)).toBe(true);
  });

  it.each([
    ["its row is written", true],
    ["it is pending, its row not written yet", false],
  ])(
    "does not delete again, on retry, a file uploaded under the name a failed delete freed, when %s",
    async (_, save) => {
      const first = Object.assign(new Document(), { ownerId: 7 });
      await first.attachment.save("retried.pdf", Buffer.from("old"));
      const oldKey = first.attachment.name as string;
      // the backend deletes the object but its answer is lost (a timeout): the cleanup retries
      const realDelete = media.delete.bind(media);
      let freed!: () => void;
      const firstDelete = new Promise<void>((resolve) => {
        freed = resolve;
      });
      const del = jest.spyOn(media, "delete").mockImplementationOnce(async (name: string) => {
        await realDelete(name);
        freed();
        throw new Error("socket hang up");
      });
      try {
        const replacing = first.attachment.save("replacement.pdf", Buffer.from("new"));
        await firstDelete;
        // meanwhile another upload gets the name, free again
        const second = Object.assign(new Document(), { ownerId: 8 });
        await second.attachment.save("retried.pdf", Buffer.from("someone else's"), { save });
        expect(second.attachment.name).toBe(oldKey);
        await replacing;
        expect(del).toHaveBeenCalledTimes(1);
        expect((await media.read(oldKey)).toString()).toBe("someone else's");
      } finally {
        del.mockRestore();
      }
    },
  );

  it("works with storages.fake() for entities declared before it", async () => {
    const fake = storages.fake("default");
    try {
      const doc = await savedDocument("faked");
      expect((await fake.read(doc.attachment.name as string)).toString()).toBe("faked");
      expect(await media.exists(doc.attachment.name as string)).toBe(false);
    } finally {
      storages.restore();
    }
  });

  it("handles many files in one transaction", async () => {
    const bytes = randomBytes(32);
    await ds.transaction(async (em) => {
      for (let i = 0; i < 5; i++) {
        const doc = Object.assign(new Document(), { ownerId: i });
        await doc.attachment.save(`f${i}.bin`, bytes, { manager: em });
      }
    });
    expect((await media.listdir(`documents/${ym()}`)).files.filter((f) => /^f\d\.bin$/.test(f)).length).toBe(5);
  });
});

describe("private fields", () => {
  it("refuse to hand out a URL from a storage whose URLs are public", async () => {
    const dir = await mkdtemp(`${tmpdir()}/private-`);
    try {
      storages.configure({ default: media, private: new FileSystemStorage({ location: dir, baseUrl: "/p/" }) });
      const doc = new Document();
      doc.contract.assign("users/1/c.pdf");
      expect(() => doc.contract.url).toThrow(StorageConfigError);
      expect(() => doc.contract.url).toThrow(/is private, but storage "private" builds public URLs/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuse to store a file on a storage whose URLs are public, before a byte is written, and close the stream given", async () => {
    const dir = await mkdtemp(`${tmpdir()}/private-`);
    try {
      // a factory returning the public storage: each saved key would be a guessable, unsigned address
      const exposed = new FileSystemStorage({ location: dir, baseUrl: "/p/" });
      storages.configure({ default: media, private: () => exposed });
      const doc = Object.assign(new Document(), { ownerId: 7 });
      const failure = await doc.contract.save("salary.pdf", Buffer.from("secret"), { save: false }).catch((e) => e);
      expect(failure).toBeInstanceOf(StorageConfigError);
      expect(failure.message).toMatch(
        /^Document\.contract is private, but storage "private" builds public URLs, .*nothing is stored, signed or linked there\. Configure the private storage with querystringAuth: true/,
      );
      expect(failure.storage).toBe("private");
      const stream = Readable.from(["secret"]);
      await expect(doc.contract.save("salary.pdf", stream, { save: false })).rejects.toBeInstanceOf(StorageConfigError);
      expect(stream.destroyed).toBe(true);
      expect((await exposed.listdir("")).directories).toEqual([]);
      expect(doc.contract.isEmpty).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

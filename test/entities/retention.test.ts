import {
  type BeforeQueryEvent,
  DataSource,
  type EntityManager,
  type EntitySubscriberInterface,
  EventSubscriber,
  type QueryRunner,
} from "typeorm";
import { FileFieldSubscriber, InMemoryStorage, storages } from "../../src";
import { bindEntity } from "../../src/fields/dataSources";
import { isPending } from "../../src/fields/pendingUploads";
import { findSlot } from "../../src/fields/queryRunnerSlots";
import { collectGarbage, describeWithGc } from "../support/collectGarbage";
import { DB, openDataSource } from "../support/dataSource";
import { Document, Folder, Page } from "./entities";

/*
 * What a process running for weeks lets go of: every request loads rows and uploads files, and some
 * give up halfway.
 */

/** Collects garbage as a transaction commits: after your callback let go of its entities. */
@EventSubscriber()
class CollectBeforeCommit implements EntitySubscriberInterface {
  beforeTransactionCommit(): Promise<void> {
    return collectGarbage();
  }
}

/** Fails the DELETE of pages while `refusing`, and remembers the connection it ran on. */
@EventSubscriber()
class RefusePageDeletes implements EntitySubscriberInterface {
  static refusing = false;
  static connection: QueryRunner | undefined;
  beforeQuery(event: BeforeQueryEvent): void {
    if (!RefusePageDeletes.refusing || !/^DELETE FROM\W+page\b/i.test(event.query)) return;
    RefusePageDeletes.connection = event.queryRunner;
    throw new Error("refused");
  }
}

let ds: DataSource;
let media: InMemoryStorage;

beforeAll(async () => {
  ds = await openDataSource([Document, Folder, Page], [FileFieldSubscriber, CollectBeforeCommit, RefusePageDeletes]);
});

afterAll(async () => {
  await ds?.destroy();
});

beforeEach(async () => {
  media = new InMemoryStorage({ baseUrl: "/media/" });
  storages.configure({ default: media, private: new InMemoryStorage() });
  for (const entity of [Page, Folder, Document]) await ds.getRepository(entity).createQueryBuilder().delete().execute();
});

/** An upload into a new entity that is then dropped: a request that failed validation. */
async function uploadAndDrop(name: string, manager?: EntityManager): Promise<string> {
  const doc = Object.assign(new Document(), { title: "t" });
  return doc.attachment.save(name, "bytes", manager ? { manager } : { save: false });
}

describeWithGc(`what a long-running process lets go of, on ${DB}`, () => {
  it("forgets an upload made with save: false once its entity is collected, never saved", async () => {
    const keys: string[] = [];
    for (let i = 0; i < 20; i++) keys.push(await uploadAndDrop(`dropped-${i}.txt`));
    expect(keys.every((key) => isPending(media, key))).toBe(true);
    await collectGarbage();
    expect(keys.filter((key) => isPending(media, key))).toEqual([]);
    // the files stay, for `orphans` to sweep, as Django leaves them
    expect(await Promise.all(keys.map((key) => media.exists(key)))).toEqual(keys.map(() => true));
  });

  it("lets a destroyed DataSource go, also one a save finishing after destroy() bound an entity to", async () => {
    // per-tenant DataSources: each initialized for a while, then destroyed
    const tenant = async (lateSave: boolean) => {
      const other = new DataSource({
        type: "sqljs",
        entities: [Document],
        subscribers: [FileFieldSubscriber],
        synchronize: true,
      });
      await other.initialize();
      const doc = Object.assign(new Document(), { title: "t" });
      await other.manager.save(doc);
      await other.destroy();
      // what the subscriber does for a save whose INSERT returned as destroy() ran
      if (lateSave) bindEntity(Object.assign(new Document(), { title: "late" }), other);
      return new WeakRef(other);
    };
    const refs = [await tenant(false), await tenant(true)];
    await collectGarbage();
    expect(refs.map((ref) => ref.deref() === undefined)).toEqual([true, true]);
  });

  it("still deletes the upload of a rolled-back insert whose entity your code no longer holds", async () => {
    let key = "";
    await expect(
      ds.transaction(async (manager) => {
        key = await uploadAndDrop("rolled-back.txt", manager);
        await collectGarbage();
        throw new Error("rollback");
      }),
    ).rejects.toThrow("rollback");
    expect(key).not.toBe("");
    expect(await media.exists(key)).toBe(false);
    expect(isPending(media, key)).toBe(false);
  });

  it("still deletes, at commit, an upload its field let go of, once your code no longer holds the entity", async () => {
    let first = "";
    await ds.transaction(async (manager) => {
      const doc = Object.assign(new Document(), { title: "t" });
      first = await doc.attachment.save("first.txt", "1", { save: false });
      await doc.attachment.save("second.txt", "2", { manager });
    });
    expect(await media.exists(first)).toBe(false);
    expect(isPending(media, first)).toBe(false);
  });
});

describe(`what a connection keeps across transactions, on ${DB}`, () => {
  afterEach(() => {
    RefusePageDeletes.refusing = false;
    RefusePageDeletes.connection = undefined;
  });

  it("forgets the rows it loaded for removals that failed, once their transaction ends", async () => {
    const folder = new Folder();
    folder.pages = [new Page(), new Page(), new Page()];
    await ds.getRepository(Folder).save(folder);
    for (const page of folder.pages) await page.scan.save(`${page.id}.txt`, "p");
    const loaded = await ds
      .getRepository(Folder)
      .findOneOrFail({ where: { id: folder.id }, relations: { pages: true } });
    loaded.pages = [];
    RefusePageDeletes.refusing = true;
    // the orphans' rows are loaded before their DELETE, which fails: afterRemove never takes them
    await expect(ds.getRepository(Folder).save(loaded)).rejects.toThrow("refused");
    const connection = RefusePageDeletes.connection as QueryRunner;
    expect(connection).toBeDefined();
    const kept = findSlot<Map<unknown, Map<string, unknown>>>(connection, Symbol.for("typeorm-storages:removed-rows"));
    expect([...(kept?.values() ?? [])].reduce((sum, rows) => sum + rows.size, 0)).toBe(0);
    // and the files stay: the rows still hold them
    for (const page of folder.pages) expect(await media.exists(page.scan.name as string)).toBe(true);
  });
});

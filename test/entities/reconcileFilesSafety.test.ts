import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  ChildEntity,
  DeleteDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  type QueryRunner,
  TableInheritance,
} from "typeorm";
import {
  type FieldFile,
  FileColumn,
  FileFieldSubscriber,
  FileSystemStorage,
  InMemoryStorage,
  reconcileFiles,
  storages,
} from "../../src";
import { DB, openDataSource } from "../support/dataSource";
import { createTestBucket, deleteTestBucket, makeS3Storage, s3Env } from "../support/s3";

const DAY = 24 * 3600 * 1000;
const later = () => new Date(Date.now() + 2 * DAY);

@Entity()
class SoftDoc {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn("soft", { uploadTo: "soft/" }) file!: FieldFile;
  @DeleteDateColumn() deletedAt!: Date | null;
}

@Entity()
@TableInheritance({ column: { type: "varchar", name: "kind" } })
class Doc {
  @PrimaryGeneratedColumn() id!: number;
}
@ChildEntity()
class PublicDoc extends Doc {
  @FileColumn("pub") file!: FieldFile;
}
@ChildEntity()
class PrivateDoc extends Doc {
  @FileColumn("priv") file!: FieldFile;
}
@Entity()
class Contract {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn("priv") pdf!: FieldFile;
}

@Entity()
class Big {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn("big", { uploadTo: "b/" }) file!: FieldFile;
}

@Entity()
class Twin {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn("plain") a!: FieldFile;
  @FileColumn("keeper", { keepFiles: true }) b!: FieldFile;
}

@Entity()
class Nest {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn("outer") a!: FieldFile;
  @FileColumn("inner") b!: FieldFile;
}

@Entity()
class Cased {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn("cased") file!: FieldFile;
}

@Entity()
class Upload {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn("uploads", { uploadTo: "up/" }) file!: FieldFile;
}

@Entity()
class Linked {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn("real") a!: FieldFile;
  @FileColumn("linked") b!: FieldFile;
}

@Entity()
class Owner {
  @PrimaryGeneratedColumn() id!: number;
}
@Entity()
class Attachment {
  @PrimaryColumn() ownerId!: number;
  @ManyToOne(() => Owner)
  @JoinColumn({ name: "ownerId" })
  owner!: Owner;
  @PrimaryColumn() n!: number;
  @FileColumn("rel") file!: FieldFile;
}
@Entity()
class ByRelation {
  @ManyToOne(() => Owner, { primary: true } as never)
  @JoinColumn()
  owner!: Owner;
  @PrimaryColumn() n!: number;
  @FileColumn("rel") file!: FieldFile;
}

abstract class BaseDoc {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn("sa") file!: FieldFile;
}
@Entity()
class Special extends BaseDoc {
  @FileColumn("sb") declare file: FieldFile;
}
@Entity()
class Other {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn("sb") x!: FieldFile;
}

@Entity()
class Thing {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn("media", { uploadTo: (_e, n) => `t/${n}` }) pic!: FieldFile;
  @FileColumn("secret") doc!: FieldFile;
}

describe(`reconcileFiles never deletes a file a row names, on ${DB}`, () => {
  afterEach(() => storages.configure({}));

  it("keeps the file of a soft-deleted row, so that recover() finds it", async () => {
    const soft = new InMemoryStorage();
    storages.configure({ soft });
    const ds = await openDataSource([SoftDoc], [FileFieldSubscriber]);
    try {
      const repo = ds.getRepository(SoftDoc);
      const doc = repo.create();
      await doc.file.save("a.txt", "keep me");
      await repo.softRemove(doc);
      const [r] = await reconcileFiles(ds, { now: later(), deleteOrphans: true });
      expect(r).toMatchObject({ orphans: [], deleted: 0, missing: [] });
      const restored = await repo.recover(doc);
      expect(await soft.exists(restored.file.name as string)).toBe(true);
    } finally {
      await ds.destroy();
    }
  });

  it("reads a column single-table siblings declare with different storages under each of them", async () => {
    const pub = new InMemoryStorage();
    const priv = new InMemoryStorage();
    storages.configure({ pub, priv });
    const ds = await openDataSource([Doc, PublicDoc, PrivateDoc, Contract], [FileFieldSubscriber]);
    try {
      const p = ds.getRepository(PrivateDoc).create();
      await p.file.save("secret.txt", "secret");
      const c = ds.getRepository(Contract).create();
      await c.pdf.save("c.pdf", "c");
      const reports = await reconcileFiles(ds, { now: later(), deleteOrphans: true });
      expect(await priv.exists(p.file.name as string)).toBe(true);
      expect(reports.flatMap((r) => r.orphans)).toEqual([]);
      expect(reports.find((r) => r.storage === "priv")?.fields.sort()).toEqual(["Contract.pdf", "PrivateDoc.file"]);
    } finally {
      await ds.destroy();
    }
  });

  it("deletes nothing where a field of another storage at the same place keeps replaced files", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "aud-"));
    const plain = new FileSystemStorage({ location: root });
    const keeper = new FileSystemStorage({ location: root });
    storages.configure({ plain, keeper });
    const ds = await openDataSource([Twin], [FileFieldSubscriber]);
    try {
      const t = ds.getRepository(Twin).create();
      await t.b.save("v1.txt", "1");
      await t.b.save("v2.txt", "2");
      await t.a.save("a.txt", "a");
      const reports = await reconcileFiles(ds, { minAge: 0, deleteOrphans: true });
      expect(await keeper.exists("v1.txt")).toBe(true);
      const swept = reports.find((r) => r.storage === "plain");
      expect(swept).toMatchObject({ deleted: 0 });
      expect(swept?.notDeleted).toContain("Twin.b keeps replaced and removed files (keepFiles)");
    } finally {
      await ds.destroy();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("keeps an object inside a nested storage's location that a row of the enclosing storage names", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "aud-"));
    const outer = new FileSystemStorage({ location: root });
    const inner = new FileSystemStorage({ location: path.join(root, "inner") });
    storages.configure({ outer, inner });
    const ds = await openDataSource([Nest], [FileFieldSubscriber]);
    try {
      const n = ds.getRepository(Nest).create();
      await n.a.save("x.txt", "x", { save: false });
      await outer.save("inner/legacy.txt", "legacy");
      n.a.assign("inner/legacy.txt");
      await n.b.save("b.txt", "b");
      const reports = await reconcileFiles(ds, { minAge: 0, deleteOrphans: true });
      expect(await outer.exists("inner/legacy.txt")).toBe(true);
      expect(reports.find((r) => r.storage === "inner")?.orphans).toEqual([]);
    } finally {
      await ds.destroy();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("treats storages whose locations reach one directory through a symlink as sharing it", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "aud-"));
    mkdirSync(path.join(root, "media"));
    symlinkSync(path.join(root, "media"), path.join(root, "current"));
    const real = new FileSystemStorage({ location: path.join(root, "media") });
    const linked = new FileSystemStorage({ location: path.join(root, "current") });
    storages.configure({ real, linked });
    const ds = await openDataSource([Linked], [FileFieldSubscriber]);
    try {
      const l = ds.getRepository(Linked).create();
      await l.a.save("a.txt", "a", { save: false });
      await l.b.save("b.txt", "b");
      const reports = await reconcileFiles(ds, { now: later(), deleteOrphans: true });
      expect(reports.flatMap((r) => r.orphans)).toEqual([]);
      expect(await real.exists(l.a.name as string)).toBe(true);
      expect(await linked.exists(l.b.name as string)).toBe(true);
    } finally {
      await ds.destroy();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("reports missing files of tables with composite primary keys, relations included", async () => {
    const rel = new InMemoryStorage();
    storages.configure({ rel });
    const ds = await openDataSource([Owner, Attachment, ByRelation], [FileFieldSubscriber]);
    try {
      const o = await ds.getRepository(Owner).save({});
      const a = ds.getRepository(Attachment).create({ ownerId: o.id, n: 1 });
      await a.file.save("a.txt", "a");
      const b = ds.getRepository(ByRelation).create({ owner: o, n: 1 });
      await b.file.save("b.txt", "b");
      await rel.delete(a.file.name as string);
      await rel.delete(b.file.name as string);
      const [report] = await reconcileFiles(ds, { minAge: 0 });
      expect(report.missing.map((m) => m.id).sort((x, y) => String(x.n).localeCompare(String(y.n)))).toEqual(
        expect.arrayContaining([expect.objectContaining({ n: 1 })]),
      );
      expect(report.missing).toHaveLength(2);
    } finally {
      await ds.destroy();
    }
  });

  it("reports as missing only the rows whose own key is missing, however the collation compares keys", async () => {
    const cased = new InMemoryStorage();
    storages.configure({ cased });
    const ds = await openDataSource([Cased], [FileFieldSubscriber]);
    try {
      await cased.save("Report.pdf", "present");
      await cased.save("notes.txt", "present");
      // MariaDB's default collation takes each of these for the other
      await ds
        .getRepository(Cased)
        .insert([
          { file: "Report.pdf" },
          { file: "report.pdf" },
          { file: "notes.txt" },
          { file: "notes.txt " },
        ] as never);
      const [report] = await reconcileFiles(ds, { minAge: 0 });
      expect(report.missing.map((m) => m.key).sort()).toEqual(["notes.txt ", "report.pdf"]);
    } finally {
      await ds.destroy();
    }
  });

  it("checks orphans against the database again before deleting: a row deleted while keys were paged hides none", async () => {
    const big = new InMemoryStorage();
    storages.configure({ big });
    const ds = await openDataSource([Big], [FileFieldSubscriber]);
    try {
      const rows = Array.from({ length: 5005 }, (_, i) => ({ file: `b/r${i}.txt` }));
      for (let i = 0; i < rows.length; i += 500)
        await ds
          .createQueryBuilder()
          .insert()
          .into(Big)
          .values(rows.slice(i, i + 500))
          .execute();
      // the object of row #5001 (index 5000) exists and is referenced
      await big.save("b/r5000.txt", "referenced");
      // a concurrent request deletes row 1 just before the second page is read
      // another connection deletes row 1 just before the second page is read, shifting the pages
      const driver = ds.driver as unknown as {
        databaseConnection: { run(sql: string): void };
        createQueryRunner(mode: "master" | "slave"): QueryRunner;
      };
      const db = driver.databaseConnection;
      const orig = ds.driver.createQueryRunner.bind(ds.driver);
      let pages = 0;
      driver.createQueryRunner = (mode) => {
        const qr = orig(mode);
        const q = qr.query.bind(qr) as (...args: unknown[]) => Promise<unknown>;
        qr.query = (async (sql: string, params?: unknown[], ...rest: unknown[]) => {
          if (/OFFSET/i.test(sql) || /LIMIT/i.test(sql)) {
            pages++;
            if (pages === 2) {
              if (DB === "sqljs") db.run('DELETE FROM "big" WHERE "id" = 1');
              else
                await orig("master").query(
                  `DELETE FROM ${ds.driver.escape("big")} WHERE ${ds.driver.escape("id")} = 1`,
                );
            }
          }
          return q(sql, params, ...rest);
        }) as QueryRunner["query"];
        return qr;
      };
      const [r] = await reconcileFiles(ds, { now: later(), deleteOrphans: true });
      expect(r).toMatchObject({ deleted: 0 });
      expect(await big.exists("b/r5000.txt")).toBe(true);
    } finally {
      await ds.destroy();
    }
  });

  it("asks the master, not a replica, about each orphan just before deleting it", async () => {
    const big = new InMemoryStorage();
    storages.configure({ big });
    const ds = await openDataSource([Big], [FileFieldSubscriber]);
    try {
      await big.save("b/orphan.txt", "o");
      const driver = ds.driver as unknown as { createQueryRunner(mode: "master" | "slave"): QueryRunner };
      const orig = driver.createQueryRunner.bind(driver);
      const rechecks: string[] = [];
      // the mode each runner was last asked for (sql.js hands out one runner for both)
      const modes = new Map<QueryRunner, string>();
      driver.createQueryRunner = (mode) => {
        const qr = orig(mode);
        if (!modes.has(qr)) {
          const q = qr.query.bind(qr) as (...args: unknown[]) => Promise<unknown>;
          qr.query = (async (sql: string, ...rest: unknown[]) => {
            if (/ IN \(/.test(sql)) rechecks.push(modes.get(qr) as string);
            return q(sql, ...rest);
          }) as QueryRunner["query"];
        }
        modes.set(qr, mode);
        return qr;
      };
      const [r] = await reconcileFiles(ds, { now: later(), deleteOrphans: true });
      expect(r).toMatchObject({ deleted: 1 });
      expect(rechecks).toEqual(["master"]);
    } finally {
      await ds.destroy();
    }
  });

  it("uses a subclass's redeclared field and storage, not the inherited one", async () => {
    const sa = new InMemoryStorage();
    const sb = new InMemoryStorage();
    storages.configure({ sa, sb });
    const ds = await openDataSource([Special, Other], [FileFieldSubscriber]);
    try {
      const s = ds.getRepository(Special).create();
      await s.file.save("s.txt", "s");
      const _reports = await reconcileFiles(ds, { minAge: 0, deleteOrphans: true });
      expect(await sb.exists("s.txt")).toBe(true);
    } finally {
      await ds.destroy();
      storages.configure({});
    }
  });

  it("never counts as an orphan an object the S3 listing gives no LastModified for, however old", async () => {
    const bucket = await createTestBucket("nolastmod");
    const uploads = makeS3Storage(bucket);
    // an S3-compatible server that leaves LastModified out of ListObjectsV2 (the SDK types it optional)
    uploads.client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === "ListObjectsV2Command")
          for (const object of (result.output as { Contents?: { LastModified?: Date }[] }).Contents ?? [])
            delete object.LastModified;
        return result;
      },
      { step: "initialize", name: "dropLastModified" },
    );
    storages.configure({ uploads });
    const ds = await openDataSource([Upload], [FileFieldSubscriber]);
    try {
      const u = ds.getRepository(Upload).create();
      // uploaded a moment ago, its row about to be written
      await u.file.save("fresh.txt", "fresh", { save: false });
      const [r] = await reconcileFiles(ds, { deleteOrphans: true });
      await ds.getRepository(Upload).save(u);
      expect(r).toMatchObject({ objects: 1, orphans: [], recent: 1, deleted: 0 });
      expect(await uploads.exists(u.file.name as string)).toBe(true);
    } finally {
      await ds.destroy();
      await storages.close();
      storages.configure({});
      await deleteTestBucket(bucket);
    }
  });

  it("treats S3 storages of one bucket as sharing it, however their endpoints are spelled", async () => {
    const bucket = await createTestBucket("place");
    const media = makeS3Storage(bucket, "default", {});
    const alt = s3Env().endpoint.replace("127.0.0.1", "localhost");
    const secret = makeS3Storage(bucket, "default", { location: "private", endpointUrl: alt });
    storages.configure({ media, secret });
    const ds = await openDataSource([Thing], [FileFieldSubscriber]);
    try {
      const t = ds.getRepository(Thing).create();
      await t.pic.save("a.png", "png");
      await t.doc.save("contract.pdf", "pdf");
      const _reports = await reconcileFiles(ds, { minAge: 0, deleteOrphans: true });
      expect(await secret.exists(t.doc.name as string)).toBe(true);
    } finally {
      await ds.destroy();
      await storages.close();
      storages.configure({});
      await deleteTestBucket(bucket);
    }
  });
});

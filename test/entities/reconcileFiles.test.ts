import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ChildEntity, Column, Entity, PrimaryGeneratedColumn, TableInheritance } from "typeorm";
import {
  type FieldFile,
  FileColumn,
  FileFieldSubscriber,
  FileSystemStorage,
  InMemoryStorage,
  reconcileFiles,
  StorageConfigError,
  storages,
} from "../../src";
import { DB, openDataSource } from "../support/dataSource";

class Media {
  @FileColumn("docs", { uploadTo: "embedded/" }) file!: FieldFile;
}

@Entity()
class Report {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn("docs", { uploadTo: "reports/%Y/" }) pdf!: FieldFile;
  @Column(() => Media) media!: Media;
}

@Entity()
@TableInheritance({ column: { type: "varchar", name: "kind" } })
class Asset {
  @PrimaryGeneratedColumn() id!: number;
}

@ChildEntity()
class Photo extends Asset {
  @FileColumn("photos", { uploadTo: (_entity, name) => `p/${name}` }) image!: FieldFile;
}

@Entity()
class Archive {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn("kept", { keepFiles: true }) file!: FieldFile;
}

@Entity()
class Shelf {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn("outer") a!: FieldFile;
  @FileColumn("inner") b!: FieldFile;
  @FileColumn("alias") c!: FieldFile;
}

const DAY = 24 * 3600 * 1000;

describe(`reconcileFiles on ${DB}`, () => {
  let docs: InMemoryStorage;
  let photos: InMemoryStorage;
  let kept: InMemoryStorage;

  beforeEach(() => {
    docs = new InMemoryStorage();
    photos = new InMemoryStorage();
    kept = new InMemoryStorage();
    storages.configure({ docs, photos, kept });
  });
  afterEach(() => storages.configure({}));

  it("finds objects no row names and rows whose object is gone, per storage, and deletes only old orphans when asked", async () => {
    const ds = await openDataSource([Report, Asset, Photo, Archive], [FileFieldSubscriber]);
    try {
      const report = ds.getRepository(Report).create();
      await report.pdf.save("q3.pdf", "pdf");
      await report.media.file.save("cover.png", "png", { save: false });
      await ds.getRepository(Report).save(report);
      const photo = ds.getRepository(Photo).create();
      await photo.image.save("cat.jpg", "jpg");
      // left behind: a row deleted with raw SQL, an object deleted behind the row's back, a file of
      // another prefix (not the fields': untouched), and a fresh upload whose row may be on its way
      const gone = ds.getRepository(Report).create();
      await gone.pdf.save("old.pdf", "old");
      await ds.query(`DELETE FROM ${ds.driver.escape("report")} WHERE ${ds.driver.escape("id")} = ${gone.id}`);
      await docs.delete(report.media.file.name as string);
      await docs.save("other/unrelated.txt", "x");
      await photos.save("p/lost.jpg", "x");

      const later = new Date(Date.now() + 2 * DAY);
      const found = await reconcileFiles(ds, { now: later });
      const byName = Object.fromEntries(found.map((r) => [r.storage, r]));
      expect(Object.keys(byName).sort()).toEqual(["docs", "kept", "photos"]);
      expect(byName.docs).toMatchObject({
        fields: ["Report.pdf", "Report.media.file"],
        prefixes: ["embedded/", "reports/"],
        objects: 2,
        referenced: 2,
        recent: 0,
        deleted: 0,
      });
      expect(byName.docs.orphans.map((o: { name: string }) => o.name)).toEqual([gone.pdf.name]);
      expect(byName.docs.missing).toEqual([
        { field: "Report.media.file", id: { id: report.id }, key: report.media.file.name },
      ]);
      expect(byName.photos).toMatchObject({ fields: ["Photo.image"], prefixes: [""], objects: 2, referenced: 1 });
      expect(byName.photos.orphans.map((o: { name: string }) => o.name)).toEqual(["p/lost.jpg"]);

      // today, the orphans are too recent to be sure of
      const now = await reconcileFiles(ds, { deleteOrphans: true });
      expect(now.find((r) => r.storage === "docs")).toMatchObject({ orphans: [], recent: 1, deleted: 0 });
      expect(await docs.exists(gone.pdf.name as string)).toBe(true);

      const swept = await reconcileFiles(ds, { deleteOrphans: true, now: later, storages: ["docs"] });
      expect(swept).toHaveLength(1);
      expect(swept[0]).toMatchObject({ deleted: 1, failures: [] });
      expect(await docs.exists(gone.pdf.name as string)).toBe(false);
      expect(await docs.exists("other/unrelated.txt")).toBe(true);
      expect(await docs.exists(report.pdf.name as string)).toBe(true);
      expect(await photos.exists("p/lost.jpg")).toBe(true);
    } finally {
      await ds.destroy();
    }
  });

  it("reads every page of a large table", async () => {
    const ds = await openDataSource([Report, Asset, Photo, Archive], [FileFieldSubscriber]);
    try {
      const rows = Array.from({ length: 5003 }, (_, i) => ({ pdf: `reports/2026/r${i}.pdf` }));
      for (let i = 0; i < rows.length; i += 500)
        await ds
          .createQueryBuilder()
          .insert()
          .into(Report)
          .values(rows.slice(i, i + 500))
          .execute();
      await docs.save("reports/2026/r5002.pdf", "x");
      const [found] = await reconcileFiles(ds, { storages: ["docs"], minAge: 0 });
      expect(found).toMatchObject({ objects: 1, referenced: 5003, orphans: [] });
      expect(found.missing).toHaveLength(5002);
    } finally {
      await ds.destroy();
    }
  });

  it("does not delete in a storage whose field keeps replaced files, and says why", async () => {
    const ds = await openDataSource([Archive], [FileFieldSubscriber]);
    try {
      const archive = ds.getRepository(Archive).create();
      await archive.file.save("v1.txt", "1");
      await archive.file.save("v2.txt", "2");
      const [found] = await reconcileFiles(ds, { deleteOrphans: true, minAge: 0 });
      expect(found.orphans.map((o: { name: string }) => o.name)).toEqual(["v1.txt"]);
      expect(found).toMatchObject({ deleted: 0 });
      expect(found.notDeleted).toContain("Archive.file keeps replaced and removed files (keepFiles)");
      expect(await kept.exists("v1.txt")).toBe(true);
    } finally {
      await ds.destroy();
    }
  });

  it("does not count as orphans the objects of another storage at the same place, or inside its location", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "reconcile-"));
    const outer = new FileSystemStorage({ location: root });
    const inner = new FileSystemStorage({ location: path.join(root, "inner") });
    const alias = new FileSystemStorage({ location: root });
    storages.configure({ outer, inner, alias });
    const ds = await openDataSource([Shelf], [FileFieldSubscriber]);
    try {
      const shelf = ds.getRepository(Shelf).create();
      await shelf.a.save("a.txt", "a", { save: false });
      await shelf.b.save("b.txt", "b", { save: false });
      await shelf.c.save("c.txt", "c", { save: false });
      await ds.getRepository(Shelf).save(shelf);
      await outer.save("stray.txt", "x");
      const reports = await reconcileFiles(ds, { minAge: 0, deleteOrphans: true });
      const byName = Object.fromEntries(reports.map((r) => [r.storage, r]));
      expect(byName.outer.orphans.map((o: { name: string }) => o.name)).toEqual(["stray.txt"]);
      expect(byName.alias.orphans.map((o: { name: string }) => o.name)).toEqual([]);
      expect(byName.inner.orphans).toEqual([]);
      for (const [storage, key] of [
        [outer, "a.txt"],
        [inner, "b.txt"],
        [alias, "c.txt"],
      ] as const)
        expect(await storage.exists(key)).toBe(true);
      expect(await outer.exists("stray.txt")).toBe(false);
    } finally {
      await ds.destroy();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("refuses a DataSource not initialized, an unknown storage and a bad minAge", async () => {
    const ds = await openDataSource([Archive], [FileFieldSubscriber]);
    try {
      await expect(reconcileFiles(ds, { storages: ["nope"] })).rejects.toThrow(
        'No file column of this DataSource keeps its files in "nope". Those it uses: "kept".',
      );
      await expect(reconcileFiles(ds, { minAge: -1 })).rejects.toThrow(StorageConfigError);
    } finally {
      await ds.destroy();
    }
    await expect(reconcileFiles(ds)).rejects.toThrow("reconcileFiles needs an initialized DataSource");
  });
});

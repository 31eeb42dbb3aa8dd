import { Entity, PrimaryGeneratedColumn } from "typeorm";
import {
  type FieldFile,
  FileColumn,
  FileFieldSubscriber,
  FileValidationError,
  InMemoryStorage,
  StorageConfigError,
  storages,
} from "../../src";
import { DB, openDataSource } from "../support/dataSource";

const pinned = new InMemoryStorage({ baseUrl: "/pinned/" });
let chosen = new InMemoryStorage({ baseUrl: "/chosen-1/" });

@Entity()
class Profile {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn("avatars", { uploadTo: "a/" }) avatar!: FieldFile;
  @FileColumn(pinned) badge!: FieldFile;
  @FileColumn(() => chosen) banner!: FieldFile;
  @FileColumn({ storage: "avatars", maxLength: 20 }) thumb!: FieldFile;
}

@Entity()
class Clipping {
  @PrimaryGeneratedColumn() id!: number;
  group = "";
  @FileColumn({ storage: "avatars", uploadTo: (_clipping, filename) => `./u//${filename}` }) tidied!: FieldFile;
  @FileColumn({ storage: "avatars", uploadTo: (clipping: Clipping, filename) => `g/${clipping.group}/${filename}` })
  grouped!: FieldFile;
  @FileColumn({ storage: "avatars", uploadTo: (_clipping, filename) => `u/../${filename}` }) escaping!: FieldFile;
  @FileColumn({ storage: "avatars", uploadTo: () => "u/folder/" }) nameless!: FieldFile;
}

@Entity()
class Receipt {
  @PrimaryGeneratedColumn() id!: number;
  @FileColumn({ storage: "avatars", maxSize: 10, accept: ["image/*", ".pdf"], uploadTo: "r/" }) scan!: FieldFile;
}

describe(`@FileColumn storage arguments on ${DB}`, () => {
  it("resolves names, instances and factories at each use, never at declaration", async () => {
    const avatars = new InMemoryStorage({ baseUrl: "/avatars/" });
    storages.configure({ avatars });
    const ds = await openDataSource([Profile], [FileFieldSubscriber]);
    try {
      const profile = new Profile();
      await profile.avatar.save("me.png", "1", { save: false });
      await profile.badge.save("b.png", "2", { save: false });
      await profile.banner.save("x.png", "3", { save: false });
      await profile.thumb.save("a-rather-long-file-name.png", "4");
      expect(profile.avatar.url).toBe("/avatars/a/me.png");
      expect(profile.badge.url).toBe("/pinned/b.png");
      expect(profile.banner.url).toBe("/chosen-1/x.png");
      expect([...(profile.thumb.name as string)].length).toBeLessThanOrEqual(20);
      chosen = new InMemoryStorage({ baseUrl: "/chosen-2/" });
      expect(profile.banner.url).toBe("/chosen-2/x.png");
      const loaded = await ds.getRepository(Profile).findOneByOrFail({ id: profile.id });
      expect(loaded.thumb.name).toBe(profile.thumb.name);
      storages.configure({});
      expect(() => loaded.avatar.url).toThrow(StorageConfigError);
    } finally {
      await ds.destroy();
    }
  });

  it("refuses a maxLength that is not a positive integer when the class is declared", () => {
    expect(() => FileColumn({ maxLength: 0 })).toThrow(/maxLength must be a positive integer/);
  });

  it("applies the field's maxSize and accept to save(): a refused file is not stored and the row not written", async () => {
    const avatars = new InMemoryStorage({ baseUrl: "/avatars/" });
    storages.configure({ avatars });
    const ds = await openDataSource([Receipt], [FileFieldSubscriber]);
    try {
      const receipts = ds.getRepository(Receipt);
      const receipt = receipts.create();
      const tooBig = await receipt.scan.save("scan.png", "01234567890").catch((e: unknown) => e);
      expect(tooBig).toBeInstanceOf(FileValidationError);
      expect(tooBig).toMatchObject({ rule: "maxSize", key: "r/scan.png" });
      const wrongType = await receipt.scan.save("scan.html", "<p>").catch((e: unknown) => e);
      expect(wrongType).toMatchObject({ rule: "accept" });
      expect(receipt.scan.name).toBeNull();
      expect(await receipts.count()).toBe(0);
      expect(await avatars.listAll()).toEqual([]);
      await receipt.scan.save("scan.PDF", "%PDF-1.7");
      expect((await receipts.findOneByOrFail({ id: receipt.id })).scan.name).toBe("r/scan.PDF");
    } finally {
      await ds.destroy();
      storages.configure({});
    }
  });

  it("shortens an uploaded filename of any length to the field's maxLength, as Django does, for save() and createUpload()", async () => {
    const avatars = new InMemoryStorage({ baseUrl: "/avatars/" });
    storages.configure({ avatars });
    const ds = await openDataSource([Profile], [FileFieldSubscriber]);
    try {
      const profile = new Profile();
      // a client's multipart filename can be longer than any key: over 1024 UTF-8 bytes here
      const key = await profile.thumb.save(`${"語".repeat(400)}.png`, "4");
      expect(key).toMatch(/^語+_[A-Za-z0-9]{7}\.png$/);
      expect([...key].length).toBeLessThanOrEqual(20);
      expect(await avatars.exists(key)).toBe(true);
      const upload = await profile.avatar.createUpload(`${"a".repeat(2000)}.png`, { size: 1 });
      expect(upload.key).toMatch(/^a\/a+_[A-Za-z0-9]{16}\.png$/);
      expect(upload.key.length).toBe(255);
    } finally {
      await ds.destroy();
      storages.configure({});
    }
  });

  it("tidies the key an uploadTo function gives as Django's generate_filename does, and still refuses '..'", async () => {
    const avatars = new InMemoryStorage({ baseUrl: "/avatars/" });
    storages.configure({ avatars });
    const ds = await openDataSource([Clipping], [FileFieldSubscriber]);
    try {
      const clipping = new Clipping();
      expect(await clipping.tidied.save("me.png", "1", { save: false })).toBe("u/me.png");
      // an empty part of the path, as a missing group gives, is dropped rather than refused
      expect(await clipping.grouped.save("x y.pdf", "2", { save: false })).toBe("g/x_y.pdf");
      await expect(clipping.escaping.save("x.png", "3", { save: false })).rejects.toThrow(
        /'\.' and '\.\.' segments are not allowed/,
      );
      // a directory without a file name stays refused, as Django refuses it: not tidied into a name
      await expect(clipping.nameless.save("x.png", "4", { save: false })).rejects.toThrow(/must not end with '\/'/);
      expect((await avatars.listAll()).map((object) => object.name)).toEqual(["g/x_y.pdf", "u/me.png"]);
    } finally {
      await ds.destroy();
      storages.configure({});
    }
  });

  it("tidies an uploadTo template as it tidies a key: empty and '.' segments are dropped", async () => {
    const avatars = new InMemoryStorage({ baseUrl: "/avatars/" });
    storages.configure({ avatars });
    try {
      class Folder {
        @FileColumn({ storage: "avatars", uploadTo: "./docs//%Y/" }) doc!: FieldFile;
      }
      const key = await new Folder().doc.save("a b.txt", "1", { save: false });
      expect(key).toBe(`docs/${new Date().getUTCFullYear()}/a_b.txt`);
    } finally {
      storages.configure({});
    }
  });

  it("refuses an uploadTo template with a token it would not expand, or a directory no key can have, when the class is declared", () => {
    // Django's strftime knows %y, %j, %B...: here they would have stayed in every key, literally
    expect(() => FileColumn({ uploadTo: "photos/%y/%j/" })).toThrow(
      /uploadTo "photos\/%y\/%j\/" has %y, which is not expanded: use %Y %m %d %H %M %S, or %% for a "%"/,
    );
    expect(() => FileColumn({ uploadTo: "100%/" })).toThrow(StorageConfigError);
    expect(() => FileColumn({ uploadTo: "/srv/media/" })).toThrow(/uploadTo "\/srv\/media\/" cannot begin a key/);
    expect(() => FileColumn({ uploadTo: "a/../b/" })).toThrow(StorageConfigError);
    expect(() => FileColumn({ uploadTo: "a/./../b/" })).toThrow(StorageConfigError);
    // tidied as a key is (Django's generate_filename): "\\" read as "/", empty and "." segments dropped
    for (const fine of [
      "",
      "docs",
      "docs/",
      "docs/%Y/%m/%d/%H%M%S/",
      "100%%/",
      "a b/%%Y/",
      "a//b",
      "./docs/",
      ".",
      "a\\b/",
    ])
      expect(() => FileColumn({ uploadTo: fine })).not.toThrow();
  });

  it("refuses a bad maxSize or accept when the class is declared", () => {
    expect(() => FileColumn({ maxSize: -1 })).toThrow("@FileColumn: maxSize must be a whole number of bytes, not -1.");
    expect(() => FileColumn({ accept: [] })).toThrow(/accept must be a non-empty array/);
    expect(() => FileColumn({ accept: ["image"] })).toThrow(/accept entry "image" is neither a content type/);
  });
});

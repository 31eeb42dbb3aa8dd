import { Entity, PrimaryGeneratedColumn } from "typeorm";
import {
  type FieldFile,
  FileColumn,
  FileFieldSubscriber,
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
});

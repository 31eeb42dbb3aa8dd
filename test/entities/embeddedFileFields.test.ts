import { Column, type DataSource, Entity, PrimaryGeneratedColumn } from "typeorm";
import {
  type FieldFile,
  FileColumn,
  FileFieldSubscriber,
  InMemoryStorage,
  StorageConfigError,
  storages,
} from "../../src";
import { DB, openDataSource } from "../support/dataSource";

/** A file field inside an embedded object (`@Column(() => Media)`): persisted only with its owner. */
class Media {
  @Column({ default: "" }) caption!: string;
  @FileColumn() file!: FieldFile;
}

@Entity()
class Post {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ default: "" }) body!: string;
  @Column(() => Media) media!: Media;
}

describe(`file fields in an embedded object, on ${DB}`, () => {
  let ds: DataSource;
  let media: InMemoryStorage;

  beforeEach(async () => {
    media = new InMemoryStorage({ baseUrl: "/m/" });
    storages.configure({ default: media });
    ds = await openDataSource([Post], [FileFieldSubscriber]);
  });
  afterEach(() => ds.destroy());

  const newPost = () => Object.assign(new Post(), { media: Object.assign(new Media(), { caption: "c" }) });

  it("are stored with the owning entity and load as FieldFiles", async () => {
    const post = newPost();
    await post.media.file.save("a.txt", "1", { save: false });
    await ds.getRepository(Post).save(post);
    const loaded = await ds.getRepository(Post).findOneByOrFail({ id: post.id });
    expect(loaded.media.file.name).toBe(post.media.file.name);
    expect(loaded.media.file.url).toBe(`/m/${post.media.file.name}`);
    expect(await loaded.media.file.read()).toEqual(Buffer.from("1"));

    await ds.getRepository(Post).save(Object.assign(new Post(), { id: post.id, body: "edited" }));
    const edited = await ds.getRepository(Post).findOneByOrFail({ id: post.id });
    expect(edited.media.file.name).toBe(post.media.file.name);
  });

  it("delete a replaced file after the commit, and every file of a removed row", async () => {
    const post = newPost();
    const first = await post.media.file.save("a.txt", "1", { save: false });
    await ds.getRepository(Post).save(post);
    const loaded = await ds.getRepository(Post).findOneByOrFail({ id: post.id });
    const second = await loaded.media.file.save("b.txt", "2", { save: false });
    await ds.getRepository(Post).save(loaded);
    expect(await media.exists(first)).toBe(false);
    expect(await media.exists(second)).toBe(true);

    await ds.getRepository(Post).remove(await ds.getRepository(Post).findOneByOrFail({ id: post.id }));
    expect(await media.exists(second)).toBe(false);
  });

  it("delete an upload replaced by another before the owner was saved, once the owner's save commits", async () => {
    const post = newPost();
    const first = await post.media.file.save("a.txt", "1", { save: false });
    const second = await post.media.file.save("b.txt", "2", { save: false });
    expect(await media.exists(first)).toBe(true);
    await ds.getRepository(Post).save(post);
    expect(await media.exists(first)).toBe(false);
    expect((await ds.getRepository(Post).findOneByOrFail({ id: post.id })).media.file.name).toBe(second);
  });

  it("delete the new upload when the transaction that saved it rolls back", async () => {
    const post = newPost();
    const kept = await post.media.file.save("a.txt", "1", { save: false });
    await ds.getRepository(Post).save(post);
    let uploaded = "";
    await expect(
      ds.transaction(async (em) => {
        const loaded = await em.getRepository(Post).findOneByOrFail({ id: post.id });
        uploaded = await loaded.media.file.save("b.txt", "2", { save: false });
        await em.getRepository(Post).save(loaded);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(uploaded).not.toBe("");
    expect(await media.exists(uploaded)).toBe(false);
    expect(await media.exists(kept)).toBe(true);
  });

  it("make the first load wait for their storage's ready()", async () => {
    const post = newPost();
    await post.media.file.save("a.txt", "1", { save: false });
    await ds.getRepository(Post).save(post);
    const slow = new InMemoryStorage({ baseUrl: "/slow/" });
    let release = () => {};
    jest.spyOn(slow, "ready").mockImplementation(() => new Promise<void>((resolve) => (release = resolve)));
    storages.configure({ default: slow });
    let loaded = false;
    const loading = ds
      .getRepository(Post)
      .findOneByOrFail({ id: post.id })
      .then((row) => {
        loaded = true;
        return row;
      });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(loaded).toBe(false);
    release();
    expect((await loading).media.file.url).toBe(`/slow/${post.media.file.name}`);
  });

  it("refuse save() and delete() that would persist the embedded object alone, before uploading", async () => {
    const post = newPost();
    const embedded = /Media is embedded \(in Post\.media\).*\{ save: false \}/;
    await expect(post.media.file.save("a.txt", "1")).rejects.toThrow(StorageConfigError);
    await expect(post.media.file.save("a.txt", "1")).rejects.toThrow(embedded);
    await expect(post.media.file.save("a.txt", "1", { manager: ds.manager })).rejects.toThrow(embedded);
    expect(await media.listdir("")).toEqual({ directories: [], files: [] });

    await post.media.file.save("a.txt", "1", { save: false });
    await ds.getRepository(Post).save(post);
    const loaded = await ds.getRepository(Post).findOneByOrFail({ id: post.id });
    await expect(loaded.media.file.delete({ manager: ds.manager })).rejects.toThrow(embedded);
    expect(loaded.media.file.name).toBe(post.media.file.name);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { DataSource } from "typeorm";
import type { InMemoryStorage } from "../../src/storage/InMemoryStorage";
import { storages } from "../../src/storage/storages";
import { runCli } from "../support/runCli";
import { s3Env } from "../support/s3";

const SRC = path.resolve(__dirname, "..", "..", "src", "index.ts");
const TYPEORM = require.resolve("typeorm");

/** A config module as an app would write it: entities, the DataSource and the storages. */
const MODULE = `
const { DataSource, Entity, PrimaryGeneratedColumn } = require(${JSON.stringify(TYPEORM)});
const { FileColumn, FileFieldSubscriber, InMemoryStorage } = require(${JSON.stringify(SRC)});
class Note {}
PrimaryGeneratedColumn()(Note.prototype, "id");
FileColumn("notes", { uploadTo: "notes/" })(Note.prototype, "file");
Entity()(Note);
const notes = new InMemoryStorage();
exports.Note = Note;
exports.storages = { notes };
exports.dataSource = new DataSource({
  type: "sqljs", entities: [Note], subscribers: [FileFieldSubscriber], synchronize: true,
});
`;

describe("typeorm-storages orphans", () => {
  let dir: string;
  let config: string;
  let loaded: { dataSource: DataSource; storages: { notes: InMemoryStorage }; Note: Function };
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "orphans-cli-"));
    config = path.join(dir, "app.js");
    writeFileSync(config, MODULE);
    loaded = require(config);
    storages.configure(loaded.storages);
    await loaded.dataSource.initialize();
  });
  afterAll(async () => {
    await loaded?.dataSource.destroy();
    storages.configure({});
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (args: string[]) => runCli(["orphans", ...args], { cwd: dir });

  it("reports orphans and missing objects, and deletes the orphans with --delete", async () => {
    const notes = loaded.storages.notes;
    const repo = loaded.dataSource.getRepository(loaded.Note);
    const kept = repo.create() as { file: { save(n: string, c: string): Promise<string>; name: string } };
    await kept.file.save("kept.txt", "k");
    await notes.save("notes/orphan.txt", "o");
    await repo.insert({ file: "notes/missing.txt" } as never);

    const report = await run(["--config", "app.js", "--min-age", "0"]);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('storage "notes": Note.file; listed notes/\n  2 objects, 2 keys in the database\n');
    expect(report.stdout).toMatch(/ {2}1 orphans\n {4}notes\/orphan\.txt \(1 bytes, /);
    expect(report.stdout).toContain('  1 rows name a missing object\n    Note.file {"id":2}: notes/missing.txt\n');
    expect(await notes.exists("notes/orphan.txt")).toBe(true);

    const young = await run(["--config", "app.js", "--delete"]);
    expect(young.stdout).toContain("0 orphans (1 more too recent to judge)");
    expect(await notes.exists("notes/orphan.txt")).toBe(true);

    const swept = await run(["--config", "app.js", "--delete", "--min-age", "0s"]);
    expect(swept.code).toBe(0);
    expect(swept.stdout).toContain("  1 deleted\n");
    expect(await notes.exists("notes/orphan.txt")).toBe(false);
    expect(await notes.exists(kept.file.name)).toBe(true);
  });

  it("stops deleting at Ctrl-C: the deletions in flight finish, the rest stay, and it exits with 130", async () => {
    const notes = loaded.storages.notes;
    const strays = ["notes/stray1.txt", "notes/stray2.txt", "notes/stray3.txt", "notes/stray4.txt"];
    for (const name of strays) await notes.save(name, "s");
    const controller = new AbortController();
    const remove = notes.delete.bind(notes);
    const spy = jest.spyOn(notes, "delete").mockImplementation(async (name) => {
      controller.abort(); // Ctrl-C while the first deletion is in flight
      return remove(name);
    });
    try {
      const result = await runCli(
        ["orphans", "--config", "app.js", "--delete", "--min-age", "0", "--concurrency", "1"],
        {
          cwd: dir,
          signal: controller.signal,
        },
      );
      expect(result.code).toBe(130);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(result.stdout).toContain("  1 deleted, 3 left: interrupted\n");
      expect(result.stdout).toContain("Interrupted: what was done is reported above");
      const left = await Promise.all(strays.map((name) => notes.exists(name)));
      expect(left.filter(Boolean)).toHaveLength(3);
    } finally {
      spy.mockRestore();
      for (const name of strays) await notes.delete(name);
    }
  });

  it("takes the storages a module configures itself when it exports none", async () => {
    const self = path.join(dir, "self.js");
    writeFileSync(
      self,
      `
const { DataSource, Entity, PrimaryGeneratedColumn } = require(${JSON.stringify(TYPEORM)});
const { FileColumn, FileFieldSubscriber, InMemoryStorage, storages } = require(${JSON.stringify(SRC)});
class Memo {}
PrimaryGeneratedColumn()(Memo.prototype, "id");
FileColumn("memos")(Memo.prototype, "file");
Entity()(Memo);
exports.memos = new InMemoryStorage();
storages.configure({ memos: exports.memos });
exports.dataSource = new DataSource({ type: "sqljs", entities: [Memo], subscribers: [FileFieldSubscriber], synchronize: true });
`,
    );
    const module = require(self) as { dataSource: DataSource; memos: InMemoryStorage };
    await module.dataSource.initialize();
    try {
      await module.memos.save("stray.txt", "x");
      const result = await run(["--config", "self.js", "--min-age", "0"]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(
        'storage "memos": Memo.file; listed (all)\n  1 objects, 0 keys in the database\n  1 orphans',
      );
    } finally {
      await module.dataSource.destroy();
      storages.configure(loaded.storages);
    }
  });

  it("exits with 2 without --config, for a bad --min-age, and for a module without a DataSource", async () => {
    expect((await run([])).stderr).toContain("orphans needs --config <module>");
    expect((await run(["--config", "app.js", "--min-age", "soon"])).code).toBe(2);
    writeFileSync(
      path.join(dir, "storages-only.js"),
      "exports.storages = { notes: () => ({ driver: {}, save() {} }) };",
    );
    const missing = await run(["--config", "storages-only.js"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('must export the app\'s TypeORM DataSource as "dataSource"');
  });

  it("exits with 2 for a bucket that does not exist, as collectstatic and sync-meta do", async () => {
    const { endpoint, accessKey, secretKey } = s3Env();
    writeFileSync(
      path.join(dir, "nobucket.js"),
      `
const { DataSource, Entity, PrimaryGeneratedColumn } = require(${JSON.stringify(TYPEORM)});
const { FileColumn, FileFieldSubscriber, S3Storage } = require(${JSON.stringify(SRC)});
class Pic {}
PrimaryGeneratedColumn()(Pic.prototype, "id");
FileColumn("pics")(Pic.prototype, "file");
Entity()(Pic);
exports.storages = { pics: () => new S3Storage({ bucketName: "no-such-bucket-orphans", endpointUrl: ${JSON.stringify(endpoint)},
  regionName: "us-east-1", addressingStyle: "path", accessKey: ${JSON.stringify(accessKey)}, secretKey: ${JSON.stringify(secretKey)} }) };
exports.dataSource = new DataSource({ type: "sqljs", entities: [Pic], subscribers: [FileFieldSubscriber], synchronize: true });
`,
    );
    const module = require(path.join(dir, "nobucket.js")) as { dataSource: DataSource };
    await module.dataSource.initialize();
    try {
      const result = await run(["--config", "nobucket.js"]);
      expect(result.stderr).toContain("does not exist");
      expect(result.code).toBe(2);
    } finally {
      await module.dataSource.destroy();
      storages.configure(loaded.storages);
    }
  });
});

import { mkdir, mkdtemp, readFile, realpath, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { MemoryDriver } from "../../src/drivers/memory/MemoryDriver";
import { InvalidKeyError } from "../../src/errors/InvalidKeyError";
import { StorageConfigError } from "../../src/errors/StorageConfigError";
import { collectStatic, DEFAULT_STATIC_IGNORE } from "../../src/storage/collectStatic";
import { FileSystemStorage } from "../../src/storage/FileSystemStorage";
import { InMemoryStorage } from "../../src/storage/InMemoryStorage";
import { Storage } from "../../src/storage/Storage";
import type { StorageDriver } from "../../src/types";
import { runCli } from "../support/runCli";

let root: string;
let app: string;
let theme: string;

const LONG_AGO = new Date("2001-01-01T00:00:00Z");

async function put(dir: string, name: string, content: string, mtime?: Date): Promise<string> {
  const file = path.join(dir, ...name.split("/"));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  if (mtime) await utimes(file, mtime, mtime);
  return file;
}

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "collectstatic-"));
  app = path.join(root, "app");
  theme = path.join(root, "theme");
  await put(app, "css/site.css", "body { color: red }");
  await put(app, "js/app.js", "console.log(1)");
  await put(app, "img/deep/logo.svg", "<svg/>");
  await put(app, ".hidden/secret.txt", "no");
  await put(app, "css/.DS_Store", "no");
  await put(app, "css/site.css~", "backup");
  await put(app, "CVS/Entries", "no");
  await put(theme, "css/site.css", "body { color: blue }"); // app's wins: it comes first
  await put(theme, "fonts/a.woff2", "woff");
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const COLLECTED = ["css/site.css", "fonts/a.woff2", "img/deep/logo.svg", "js/app.js"];

const backends: [string, () => Storage][] = [
  ["memory", () => new InMemoryStorage({ baseUrl: "/static/" })],
  ["filesystem", () => new FileSystemStorage({ location: path.join(root, "collected"), baseUrl: "/static/" })],
];

describe.each(backends)("collectStatic into %s storage", (_label, make) => {
  let storage: Storage;
  beforeEach(() => {
    storage = make();
  });

  it("copies every file under its relative path, the first source winning, without ignored names", async () => {
    const copied: string[] = [];
    const summary = await collectStatic(storage, [app, theme], {
      onFile: (r) => r.status === "copied" && copied.push(r.name),
    });
    expect(summary).toMatchObject({ copied: 4, unmodified: 0, duplicates: 1, deleted: 0, failed: 0, aborted: false });
    expect(copied.sort()).toEqual(COLLECTED);
    expect((await storage.listAll()).map((o) => o.name)).toEqual(COLLECTED);
    expect((await storage.read("css/site.css")).toString()).toBe("body { color: red }");
    expect((await storage.stat("css/site.css")).contentType).toBe("text/css");
  });

  it("skips what is already there on the next run, without writing", async () => {
    await collectStatic(storage, [app, theme]);
    const save = jest.spyOn(storage, "save");
    const summary = await collectStatic(storage, [app, theme]);
    expect(summary).toMatchObject({ copied: 0, unmodified: 4, failed: 0 });
    expect(save).not.toHaveBeenCalled();
  });

  it("copies a file changed since, and leaves out what did not change", async () => {
    await collectStatic(storage, [app, theme]);
    const later = new Date(Date.now() + 60_000); // edited after the first run
    await put(app, "js/app.js", "console.log(2)", later);
    const summary = await collectStatic(storage, [app, theme]);
    expect(summary).toMatchObject({ copied: 1, unmodified: 3 });
    expect((await storage.read("js/app.js")).toString()).toBe("console.log(2)");
  });

  it("changes nothing in a dry run, and says what it would copy", async () => {
    const summary = await collectStatic(storage, [app], { dryRun: true });
    expect(summary).toMatchObject({ copied: 3, dryRun: true });
    expect(await storage.listAll()).toEqual([]);
  });

  it("deletes everything in the storage first with clear, then copies every file", async () => {
    await collectStatic(storage, [app, theme]);
    await storage.save("stale/old.js", "old", { overwrite: true });
    const summary = await collectStatic(storage, [app, theme], { clear: true });
    expect(summary).toMatchObject({ deleted: 5, copied: 4, unmodified: 0 });
    expect((await storage.listAll()).map((o) => o.name)).toEqual(COLLECTED);
  });

  it("counts a file whose name cannot be a key as failed, and copies the rest", async () => {
    await put(app, "bad\\name.css", "x");
    const summary = await collectStatic(storage, [app]);
    expect(summary).toMatchObject({ copied: 3, failed: 1 });
    expect(summary.failures[0]).toMatchObject({ name: "bad\\name.css", error: expect.any(InvalidKeyError) });
  });
});

describe("collectStatic", () => {
  it("decides by MD5 where the storage reports one, whatever the file's time", async () => {
    const storage = new InMemoryStorage();
    await collectStatic(storage, [app]);
    // same content, touched later (a fresh checkout): unmodified
    await put(app, "css/site.css", "body { color: red }", new Date(Date.now() + 60_000));
    // changed content, same size, dated long ago: copied all the same
    await put(app, "js/app.js", "console.log(9)", LONG_AGO);
    const summary = await collectStatic(storage, [app]);
    expect(summary).toMatchObject({ copied: 1, unmodified: 2 });
    expect((await storage.read("js/app.js")).toString()).toBe("console.log(9)");
  });

  it("copies a file of another size than its stored copy whose MD5 is known, however old its time (npm, tar, cp -p)", async () => {
    const storage = new InMemoryStorage();
    const npm = new Date("1985-10-26T08:15:00Z"); // every file's time in an npm tarball
    await put(app, "js/app.js", "console.log('v1.0.0')", npm);
    await collectStatic(storage, [app]);
    await put(app, "js/app.js", "console.log('v1.0.1 with a security fix')", npm);
    expect(await collectStatic(storage, [app])).toMatchObject({ copied: 1, unmodified: 2 });
    expect((await storage.read("js/app.js")).toString()).toBe("console.log('v1.0.1 with a security fix')");
  });

  it("without an MD5, follows Django: an object not older than the file is unmodified", async () => {
    const storage = new FileSystemStorage({ location: path.join(root, "out") });
    await collectStatic(storage, [app]);
    await put(app, "js/app.js", "changed, but dated before the copy", LONG_AGO);
    expect(await collectStatic(storage, [app])).toMatchObject({ copied: 0, unmodified: 3 });
  });

  it("refuses to collect into a directory inside a source (or the source itself), as Django does", async () => {
    const inside = new FileSystemStorage({ location: path.join(app, "collected") });
    await expect(collectStatic(inside, [theme, app])).rejects.toThrow(
      new RegExp(`The static source ${app.replace(/[/\\]/g, ".")} contains the directory the files are collected into`),
    );
    await expect(collectStatic(inside, [app], { clear: true })).rejects.toBeInstanceOf(StorageConfigError);
    expect(await readFile(path.join(app, "js/app.js"), "utf8")).toBe("console.log(1)");
    // through a symlink too
    await symlink(app, path.join(root, "app-link"));
    const viaLink = new FileSystemStorage({ location: path.join(root, "app-link", "out") });
    await expect(collectStatic(viaLink, [app])).rejects.toBeInstanceOf(StorageConfigError);
    // a sibling is fine
    const beside = new FileSystemStorage({ location: path.join(root, "app-out") });
    expect(await collectStatic(beside, [app])).toMatchObject({ copied: 3, failed: 0 });
  });

  it("refuses a source inside the directory it collects into, which clear would delete first", async () => {
    const inside = new FileSystemStorage({ location: root }); // app and theme lie inside it
    const error = await collectStatic(inside, [app], { clear: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageConfigError);
    expect((error as Error).message).toBe(
      `The static source ${app} lies inside the directory the files are collected into (${await realpath(root)}): ` +
        "clear would delete the source's files, and every run serves them a second time under their own path. " +
        "Keep the source directories outside the one collected into (STATIC_ROOT).",
    );
    expect((await readFile(path.join(app, "css", "site.css"))).toString()).toBe("body { color: red }");
    await expect(collectStatic(inside, [app])).rejects.toBeInstanceOf(StorageConfigError);
  });

  it("uses ignore patterns given, or none", async () => {
    const storage = new InMemoryStorage();
    const summary = await collectStatic(storage, [app], { ignore: [...DEFAULT_STATIC_IGNORE, "img", "*.js"] });
    expect((await storage.listAll()).map((o) => o.name)).toEqual(["css/site.css"]);
    expect(summary.copied).toBe(1);
    const everything = await collectStatic(new InMemoryStorage(), [app], { ignore: [] });
    expect(everything.copied).toBe(7);
  });

  it("matches ignore patterns as Django: names, files' paths from the source, * across slashes, [seq] classes", async () => {
    const names = async (ignore: string[]) => {
      const storage = new InMemoryStorage();
      await collectStatic(storage, [app], { ignore });
      return (await storage.listAll()).map((o) => o.name);
    };
    expect(await names([...DEFAULT_STATIC_IGNORE, "img/deep/*"])).toEqual(["css/site.css", "js/app.js"]);
    expect(await names([...DEFAULT_STATIC_IGNORE, "*/app.js", "[cx]ss"])).toEqual(["img/deep/logo.svg"]);
    expect(await names([...DEFAULT_STATIC_IGNORE, "[!cs]*"])).toEqual(["css/site.css"]);
    // a directory is matched by its name only, as in Django: "img/deep" leaves it in
    expect(await names([...DEFAULT_STATIC_IGNORE, "img/deep"])).toEqual([
      "css/site.css",
      "img/deep/logo.svg",
      "js/app.js",
    ]);
    expect(await names([...DEFAULT_STATIC_IGNORE, "[a", "site.css"])).toEqual(["img/deep/logo.svg", "js/app.js"]);
  });

  it("follows symlinks, visiting a directory linked in a loop once", async () => {
    await symlink(path.join(app, "css"), path.join(app, "css-link"));
    await symlink(app, path.join(app, "css", "loop"));
    const storage = new InMemoryStorage();
    const summary = await collectStatic(storage, [app]);
    expect((await storage.listAll()).map((o) => o.name)).toEqual([
      "css-link/site.css", // "-" sorts before "/"
      "css/site.css",
      "img/deep/logo.svg",
      "js/app.js",
    ]);
    expect(summary.failed).toBe(0);
  });

  it("does not follow a symlink out of the source directory, and counts it as failed, unless followSymlinks", async () => {
    await put(root, ".env", "SECRET_KEY=hunter2");
    await mkdir(path.join(root, "etc"));
    await put(root, "etc/passwd", "root:x:0:0");
    await symlink(path.join(root, ".env"), path.join(app, "css", "config.txt")); // not ignored: its name is
    await symlink(path.join("..", "etc"), path.join(app, "system"));
    await symlink(path.join(app, "js", "app.js"), path.join(app, "js", "alias.js")); // inside: followed
    const storage = new InMemoryStorage();
    const summary = await collectStatic(storage, [app]);
    expect((await storage.listAll()).map((o) => o.name)).toEqual([
      "css/site.css",
      "img/deep/logo.svg",
      "js/alias.js",
      "js/app.js",
    ]);
    expect(summary).toMatchObject({ copied: 4, failed: 2 });
    expect(summary.failures.map((f) => [f.name, f.source])).toEqual([
      ["css/config.txt", path.join(app, "css", "config.txt")],
      ["system", path.join(app, "system")],
    ]);
    expect(summary.failures[0].reason).toBe(
      `it is a symbolic link to ${await realpath(path.join(root, ".env"))}, outside the source directory ${app}, ` +
        "so it was not followed (a link to a secret would be published). Remove the link, copy what it leads " +
        "to into the directory, or pass followSymlinks (--follow-symlinks) if every link there is meant to be followed.",
    );

    const followed = await collectStatic(storage, [app], { followSymlinks: true });
    expect(followed).toMatchObject({ copied: 2, failed: 0 });
    expect((await storage.read("system/passwd")).toString()).toBe("root:x:0:0");
  });

  it("counts a symbolic link leading nowhere (a build not run, a loop) as failed, naming where it leads", async () => {
    await symlink(path.join("..", "..", "build", "bundle.js"), path.join(app, "js", "bundle.js"));
    await symlink("self.css", path.join(app, "css", "self.css"));
    await symlink(path.join(root, "gone"), path.join(app, "gone")); // a directory removed since
    await symlink(path.join(root, "nowhere"), path.join(app, ".ignored")); // ignored by its name
    const storage = new InMemoryStorage();
    const summary = await collectStatic(storage, [app]);
    expect(summary).toMatchObject({ copied: 3, failed: 3 });
    expect(summary.failures.map((f) => [f.name, f.source])).toEqual([
      ["css/self.css", path.join(app, "css", "self.css")],
      ["gone", path.join(app, "gone")],
      ["js/bundle.js", path.join(app, "js", "bundle.js")],
    ]);
    expect(summary.failures[2].reason).toBe(
      `it is a symbolic link to ${path.join("..", "..", "build", "bundle.js")}, which does not exist (or is a loop ` +
        "of links). Create what it leads to (a build step not run?), or remove the link.",
    );
  });

  it("follows links within a source reached through a symlink itself", async () => {
    await symlink(app, path.join(root, "app-link"));
    await symlink(path.join(app, "css"), path.join(app, "styles"));
    const summary = await collectStatic(new InMemoryStorage(), [path.join(root, "app-link")]);
    expect(summary).toMatchObject({ copied: 4, failed: 0 });
  });

  it("works with a driver that cannot list everything at once (list and stat per object)", async () => {
    const memory = new MemoryDriver();
    const driver: StorageDriver = {
      kind: "memory",
      publicUrls: false,
      write: (key, body, options) => memory.write(key, body, options),
      open: (key, range) => memory.open(key, range),
      stat: (key) => memory.stat(key),
      delete: (key) => memory.delete(key),
      list: (prefix) => memory.list(prefix),
      url: (key) => memory.url(key),
    };
    const storage = new Storage(driver);
    await collectStatic(storage, [app]);
    expect((await storage.listAll()).map((o) => [o.name, o.storedSize, o.md5])).toEqual([
      ["css/site.css", 19, null],
      ["img/deep/logo.svg", 6, null],
      ["js/app.js", 14, null],
    ]);
    expect(await collectStatic(storage, [app])).toMatchObject({ copied: 0, unmodified: 3 });
  });

  it("starts nothing once the signal fired", async () => {
    const storage = new InMemoryStorage();
    const summary = await collectStatic(storage, [app], { signal: AbortSignal.abort() });
    expect(summary).toMatchObject({ copied: 0, aborted: true });
    expect(await storage.listAll()).toEqual([]);
  });

  it("refuses a source that is not a directory, and a bad concurrency, before copying", async () => {
    const storage = new InMemoryStorage();
    await expect(collectStatic(storage, [path.join(root, "missing")])).rejects.toBeInstanceOf(StorageConfigError);
    await expect(collectStatic(storage, [app], { concurrency: 0 })).rejects.toBeInstanceOf(StorageConfigError);
    await expect(collectStatic(storage, [])).rejects.toBeInstanceOf(StorageConfigError);
    expect(await storage.listAll()).toEqual([]);
  });
});

describe("typeorm-storages collectstatic", () => {
  const run = (args: string[]) =>
    runCli(["collectstatic", ...args], { env: { STATIC_ROOT: path.join(root, "static-root") }, cwd: root });

  it("copies into the staticfiles storage from the environment, and reports", async () => {
    const dry = await run(["app", "theme", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("would copy css/site.css\n");
    expect(dry.stdout).toMatch(/dry run, nothing was changed\n\s+4 to copy\n/);
    // which file was left out, as Django's "Found another file with the destination path"
    const duplicate = `left out css/site.css from ${path.join(theme, "css", "site.css")}: an earlier source has it\n`;
    expect(dry.stdout).toContain(duplicate);
    const first = await run(["app", "theme"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /4 copied\n\s+0 unmodified\n\s+1 left out: an earlier source has the same path \(--verbose lists them\)\n/,
    );
    expect(first.stdout).not.toContain(duplicate);
    const again = await run(["app", "theme", "--verbose"]);
    expect(again.stdout).toMatch(/0 copied\n\s+4 unmodified/);
    expect(again.stdout).toContain(duplicate);
    const storage = new FileSystemStorage({ location: path.join(root, "static-root") });
    expect((await storage.listAll()).map((o) => o.name)).toEqual(COLLECTED);
  });

  it("takes Django's short options (-n, -c, -i) and its --noinput, as it never prompts", async () => {
    await run(["app"]);
    const django = await run(["app", "--noinput", "-n", "-c", "-i", "*.js", "-i", "logo.*"]);
    expect(django.code).toBe(0);
    expect(django.stdout).toMatch(/dry run, nothing was changed\n\s+1 to copy\n\s+0 unmodified\n\s+3 to delete\n/);
    expect(django.stdout).toContain("would copy css/site.css\n");
    expect((await run(["app", "--no-input"])).code).toBe(0);
  });

  it("refuses --clear where another storage keeps its files inside the one collected into", async () => {
    const env = { STATIC_ROOT: path.join(root, "public"), MEDIA_ROOT: path.join(root, "public", "media") };
    await put(root, "public/media/avatar.png", "a user's upload");
    const cleared = await runCli(["collectstatic", "app", "--clear"], { env, cwd: root });
    expect(cleared.code).toBe(2);
    expect(cleared.stderr).toContain(
      '--clear would delete the files of storage "default" too: its location lies inside the one of "staticfiles"',
    );
    expect((await readFile(path.join(root, "public", "media", "avatar.png"))).toString()).toBe("a user's upload");
    // without --clear nothing of theirs is touched
    expect((await runCli(["collectstatic", "app"], { env, cwd: root })).code).toBe(0);
  });

  it("exits with 1 when a file failed, and 2 for bad arguments", async () => {
    await put(app, "bad\\name.css", "x");
    const failed = await run(["app"]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("bad\\name.css: ");
    expect((await run([])).code).toBe(2);
    const unknown = await run(["app", "--frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--frobnicate");
    // the help of the command that refused it, not the list of commands
    expect(unknown.stderr).toContain('Run "typeorm-storages collectstatic --help" for usage.');
    const help = await runCli(["help", "collectstatic"], { cwd: root });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: typeorm-storages collectstatic <source-dir>...");
    expect((await run(["app", "--concurrency", "0"])).code).toBe(2);
    expect((await run(["app", "--storage", "nope"])).code).toBe(2);
    expect((await run(["missing-dir"])).code).toBe(2);
  });

  it("fails a symlink out of the source directory, naming --follow-symlinks, which follows it", async () => {
    await put(root, "secret.txt", "s3cr3t");
    await symlink(path.join(root, "secret.txt"), path.join(app, "leak.txt"));
    const refused = await run(["app"]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/leak\.txt: it is a symbolic link to \S+secret\.txt, outside the source directory/);
    expect(refused.stdout).toContain("--follow-symlinks");
    const followed = await run(["app", "--follow-symlinks"]);
    expect(followed.code).toBe(0);
    expect((await run(["--help"])).stdout).toContain("--follow-symlinks");
  });
});

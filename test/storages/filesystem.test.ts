import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { FileSystemDriver } from "../../src/drivers/fs/FileSystemDriver";
import { PathOutsideRootError } from "../../src/drivers/fs/PathOutsideRootError";
import { FileValidationError } from "../../src/errors/FileValidationError";
import { InvalidKeyError } from "../../src/errors/InvalidKeyError";
import { StorageConfigError } from "../../src/errors/StorageConfigError";
import { StorageOperationError } from "../../src/errors/StorageOperationError";
import { FileSystemStorage } from "../../src/storage/FileSystemStorage";

const SECRET = "a-test-secret-that-is-32-bytes!!";
let work: string;
let n = 0;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "typeorm-storages-fs-"));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A fresh, not yet existing location for each test. */
function freshLocation(): string {
  n += 1;
  return path.join(work, `root-${n}`);
}

/** A stream that sends `good` bytes and then fails with `message`. */
function failingStream(good: number, message: string): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(Buffer.alloc(good, 1));
      } else {
        this.destroy(new Error(message));
      }
    },
  });
}

/** Every entry under `dir`, recursively, as relative paths. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

describe("FileSystemStorage configuration", () => {
  it("requires a location", () => {
    expect(() => new FileSystemStorage({} as never)).toThrow(StorageConfigError);
    expect(() => new FileSystemStorage({ location: " " })).toThrow(
      "FileSystemStorage: `location` (the root directory, e.g. MEDIA_ROOT) is required.",
    );
  });

  it("requires a signing secret of at least 32 bytes for signed URLs, naming the variable", () => {
    expect(() => new FileSystemStorage({ location: "x", querystringAuth: true })).toThrow(
      /needs a `signingSecret` \(env STORAGES_SIGNING_SECRET\) of at least 32 random bytes/,
    );
    expect(() => new FileSystemStorage({ location: "x", querystringAuth: true, signingSecret: "short" })).toThrow(
      "FileSystemStorage: `signingSecret` is 5 bytes; use at least 32 random bytes.",
    );
    expect(new FileSystemStorage({ location: "x", querystringAuth: true, signingSecret: SECRET }).querystringAuth).toBe(
      true,
    );
  });

  it("refuses a relative baseUrl, a bad expiry and a bad file mode", () => {
    expect(() => new FileSystemStorage({ location: "x", baseUrl: "media/" })).toThrow(
      'FileSystemStorage: `baseUrl` must start with "/" or be an absolute http(s) URL, got "media/".',
    );
    expect(() => new FileSystemStorage({ location: "x", querystringExpire: 0 })).toThrow(StorageConfigError);
    expect(() => new FileSystemStorage({ location: "x", filePermissions: 0o10000 })).toThrow(
      "FileSystemStorage: `filePermissions` must be a file mode such as 0o644, got 4096.",
    );
  });

  it("adds the trailing slash to baseUrl and resolves location to an absolute path", () => {
    const storage = new FileSystemStorage({ location: "relative/media", baseUrl: "/files" });
    expect(storage.baseUrl).toBe("/files/");
    expect(storage.location).toBe(path.resolve("relative/media"));
    expect(storage.path("a/b.txt")).toBe(path.resolve("relative/media", "a", "b.txt"));
    expect(storage.driver).toBeInstanceOf(FileSystemDriver);
  });
});

describe("FileSystemStorage URLs", () => {
  it("builds path-only and absolute public URLs, percent-encoding each segment", () => {
    const local = new FileSystemStorage({ location: "x" });
    const cdn = new FileSystemStorage({ location: "x", baseUrl: "https://cdn.example/m/" });
    expect(local.url("a b/ü#?.txt")).toBe("/media/a%20b/%C3%BC%23%3F.txt");
    expect(cdn.url("a.txt")).toBe("https://cdn.example/m/a.txt");
  });

  it("matches and signs the path part of any baseUrl: path-only, absolute, protocol-relative, unencoded", () => {
    const basePath = (baseUrl: string) => new FileSystemStorage({ location: "x", baseUrl }).driver.basePath;
    expect(basePath("/media/")).toBe("/media/");
    expect(basePath("https://cdn.example/m/")).toBe("/m/");
    expect(basePath("//cdn.example/m/")).toBe("/m/");
    expect(basePath("/my media/")).toBe("/my%20media/");
  });

  it("signs every URL with querystringAuth, with the default and a per-call expiry", () => {
    const storage = new FileSystemStorage({
      location: "x",
      baseUrl: "https://files.example/private/",
      querystringAuth: true,
      signingSecret: SECRET,
      querystringExpire: 120,
    });
    const now = Math.floor(Date.now() / 1000);
    const url = new URL(storage.url("a b.txt"));
    expect(url.origin + url.pathname).toBe("https://files.example/private/a%20b.txt");
    expect(Number(url.searchParams.get("expires")) - now).toBeGreaterThanOrEqual(119);
    expect(Number(url.searchParams.get("expires")) - now).toBeLessThanOrEqual(121);
    const verified = storage.driver.signer?.verify("/private/a%20b.txt", url.search.slice(1));
    expect(verified).toMatchObject({ valid: true });
    const short = new URL(storage.url("a b.txt", { expiresIn: 5 }));
    expect(Number(short.searchParams.get("expires")) - now).toBeLessThanOrEqual(6);
  });

  it("signs download and content-type overrides on a public storage that has a secret, and refuses them without one", () => {
    const withSecret = new FileSystemStorage({ location: "x", signingSecret: SECRET });
    const url = new URL(withSecret.url("r.pdf", { download: "Report.pdf" }), "http://h");
    expect(url.searchParams.get("response-content-disposition")).toBe(
      "attachment; filename=\"Report.pdf\"; filename*=UTF-8''Report.pdf",
    );
    expect(withSecret.url("r.pdf")).toBe("/media/r.pdf");
    const error = (() => {
      try {
        new FileSystemStorage({ location: "x" }).url("r.pdf", { download: "Report.pdf" });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(StorageConfigError);
    expect((error as Error).message).toMatch(/give this FileSystemStorage a signingSecret/);
  });

  it("refuses an expiry it cannot sign with a StorageOperationError whose message reads as a sentence", () => {
    const storage = new FileSystemStorage({ location: "x", querystringAuth: true, signingSecret: SECRET });
    const refused = (() => {
      try {
        storage.url("r.pdf", { expiresIn: 0 });
      } catch (e) {
        return e as StorageOperationError;
      }
    })();
    expect(refused).toBeInstanceOf(StorageOperationError);
    expect(refused?.operation).toBe("url");
    expect(refused?.message).toMatch(/^Could not build the URL of "r\.pdf" on .*: expiresIn must be a positive number/);
  });
});

describe("FileSystemStorage on disk", () => {
  it("creates its location on the first write, and reads as empty before", async () => {
    const location = freshLocation();
    const storage = new FileSystemStorage({ location });
    expect(await storage.exists("a.txt")).toBe(false);
    expect(await storage.listdir("")).toEqual({ directories: [], files: [] });
    await storage.delete("a.txt");
    await storage.save("deep/er/a.txt", "hello");
    expect(await readFile(path.join(location, "deep", "er", "a.txt"), "utf8")).toBe("hello");
    expect(storage.path("deep/er/a.txt")).toBe(path.join(location, "deep", "er", "a.txt"));
  });

  it("checks accept against the type the file is served with (its name's), not the uploader's claim", async () => {
    const storage = new FileSystemStorage({ location: freshLocation() });
    const upload = { originalname: "x.html", mimetype: "image/png", buffer: Buffer.from("<script>alert(1)</script>") };
    const error = await storage.save("x.html", upload, { accept: ["image/*"] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileValidationError);
    expect(await storage.exists("x.html")).toBe(false);
    // and a name that gives an accepted type passes, whatever is claimed
    const png = { originalname: "a.png", mimetype: "text/html", buffer: Buffer.from("png") };
    expect(await storage.save("a.png", png, { accept: ["image/*"] })).toBe("a.png");
  });

  it("stats the guessed content type and a weak ETag that changes with the content", async () => {
    const storage = new FileSystemStorage({ location: freshLocation() });
    await storage.save("p.svg", "<svg/>");
    const first = await storage.stat("p.svg");
    expect(first.contentType).toBe("image/svg+xml");
    expect(first.size).toBe(6);
    expect(first.etag).toMatch(/^W\/"6-[0-9a-f]+-[0-9a-f]+"$/);
    await storage.save("p.svg", "<svg></svg>", { overwrite: true });
    const second = await storage.stat("p.svg");
    expect(second.etag).toMatch(/^W\/"b-[0-9a-f]+-[0-9a-f]+"$/);
    expect(second.etag).not.toBe(first.etag);
  });

  it("gives a file replaced by as many bytes a new ETag, even within one tick of the clock", async () => {
    const storage = new FileSystemStorage({ location: freshLocation() });
    await storage.save("avatar.txt", "old!");
    const mtime = new Date("2024-01-01T00:00:00Z");
    const stale: string[] = [];
    for (let i = 0; i < 20; i++) {
      await storage.save("avatar.txt", "old!", { overwrite: true });
      // the same modification time a coarse clock gives two writes in quick succession
      await utimes(storage.path("avatar.txt"), mtime, mtime);
      const before = (await storage.stat("avatar.txt")).etag;
      await storage.save("avatar.txt", "new!", { overwrite: true });
      await utimes(storage.path("avatar.txt"), mtime, mtime);
      if ((await storage.stat("avatar.txt")).etag === before) stale.push(before as string);
    }
    expect(stale).toEqual([]);
  });

  it("removes the temp file when the stream fails, and keeps no partial file", async () => {
    const location = freshLocation();
    const storage = new FileSystemStorage({ location });
    const error = await storage.save("dir/broken.bin", failingStream(100_000, "upstream broke")).catch((e) => e);
    expect(error).toBeInstanceOf(StorageOperationError);
    expect(error.cause).toMatchObject({ message: "upstream broke" });
    // nor the directory made for it
    expect(await tree(location)).toEqual([]);
  });

  it("refuses a name longer than the file system takes with InvalidKeyError, before reading, as createUpload does", async () => {
    const location = freshLocation();
    const storage = new FileSystemStorage({ location, signingSecret: "s".repeat(32) });
    // 90 CJK characters fit a varchar(255), and are 270 bytes
    const name = `docs/${"日".repeat(90)}.pdf`;
    const stream = Readable.from(["never read"]);
    const error = await storage.save(name, stream).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidKeyError);
    expect(error.message).toBe(
      `"${"日".repeat(90)}.pdf" is 274 bytes long, and file systems take names of at most 255: save it under a shorter name.`,
    );
    expect(stream.destroyed).toBe(true);
    await expect(storage.createUpload(name, { size: 3 })).rejects.toBeInstanceOf(InvalidKeyError);
    // a name that fits, taken, leaves no room for an alternative: refused too, nothing kept
    const fits = `docs/${"日".repeat(82)}.pdf`;
    await storage.save(fits, "first");
    const alternative = await storage.save(fits, "second").catch((e) => e);
    expect(alternative).toBeInstanceOf(InvalidKeyError);
    expect(alternative.message).toMatch(/^No room for an alternative name: ".*_[A-Za-z0-9]{7}\.pdf" is 258 bytes long/);
    expect(await tree(location)).toEqual(["docs", `docs/${"日".repeat(82)}.pdf`]);
  });

  it("removes the temp file when a stream ends short of its announced length", async () => {
    const location = freshLocation();
    const driver = new FileSystemStorage({ location }).driver;
    const short = driver.write(
      "short.bin",
      { kind: "stream", stream: Readable.from([Buffer.alloc(5)]), length: 10 },
      { contentType: "application/octet-stream", contentDisposition: null, overwrite: false, alternativeKey: (k) => k },
    );
    await expect(short).rejects.toThrow("The content ended after 5 bytes; 10 were announced.");
    expect(await tree(location)).toEqual([]);
  });

  it("removes the temp file when the save is aborted mid-stream", async () => {
    const location = freshLocation();
    const storage = new FileSystemStorage({ location });
    const controller = new AbortController();
    const stream = new Readable({ read() {} });
    stream.push(Buffer.alloc(50_000));
    const saving = storage.save("aborted.bin", stream, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(saving).rejects.toMatchObject({ name: "AbortError" });
    expect(await tree(location)).toEqual([]);
  });

  it("gives N concurrent no-overwrite saves of one key N distinct keys and N intact files, with no temp file left", async () => {
    const location = freshLocation();
    const storage = new FileSystemStorage({ location });
    const bodies = Array.from({ length: 25 }, (_, i) => Buffer.alloc(20_000 + i, i));
    const keys = await Promise.all(
      bodies.map((body) =>
        storage.save("race/same.bin", Readable.from([body.subarray(0, 10_000), body.subarray(10_000)])),
      ),
    );
    expect(new Set(keys).size).toBe(25);
    expect(keys).toContain("race/same.bin");
    for (const key of keys) expect(key).toMatch(/^race\/same(_[A-Za-z0-9]{7})?\.bin$/);
    const contents = await Promise.all(keys.map((key) => storage.read(key)));
    expect(contents.map((c) => c.length).sort()).toEqual(bodies.map((b) => b.length).sort());
    for (const content of contents) expect(content.equals(bodies[content.length - 20_000])).toBe(true);
    expect((await readdir(path.join(location, "race"))).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("overwrites atomically when asked, keeping the key", async () => {
    const storage = new FileSystemStorage({ location: freshLocation(), fileOverwrite: true });
    const keys = await Promise.all(["one", "two", "three"].map((body) => storage.save("o.txt", body)));
    expect(keys).toEqual(["o.txt", "o.txt", "o.txt"]);
    expect(["one", "two", "three"]).toContain((await storage.read("o.txt")).toString());
  });

  it("never lists its temp files", async () => {
    const location = freshLocation();
    const storage = new FileSystemStorage({ location });
    await storage.save("l/a.txt", "a");
    await writeFile(path.join(location, "l", ".a.txt.0123456789abcdef.tmp"), "partial");
    expect(await storage.listdir("l")).toEqual({ directories: [], files: ["a.txt"] });
  });

  it("removes the directories a delete leaves empty, up to but not including the location", async () => {
    const location = freshLocation();
    const storage = new FileSystemStorage({ location });
    await storage.save("a/b/c/one.txt", "1");
    await storage.save("a/two.txt", "2");
    await storage.delete("a/b/c/one.txt");
    expect(await tree(location)).toEqual(["a", path.join("a", "two.txt")]);
    await storage.delete("a/two.txt");
    expect(await tree(location)).toEqual([]);
    expect((await stat(location)).isDirectory()).toBe(true);
  });

  it("treats a directory as no file: delete is a no-op, reads are not found", async () => {
    const storage = new FileSystemStorage({ location: freshLocation() });
    await storage.save("d/x.txt", "x");
    await storage.delete("d");
    expect(await storage.exists("d")).toBe(false);
    expect(await storage.exists("d/x.txt")).toBe(true);
    await expect(storage.read("d")).rejects.toMatchObject({ code: "FILE_NOT_FOUND", key: "d" });
    expect(await storage.exists("d/x.txt/deeper")).toBe(false);
  });

  it("refuses a key under a file, or a file over a directory, saying a disk name cannot be both", async () => {
    const location = freshLocation();
    const storage = new FileSystemStorage({ location });
    await storage.save("report.pdf", "pdf");
    await storage.save("d/x.txt", "x");
    const stream = Readable.from(["never read"]);
    const under = await storage.save("report.pdf/notes/a.txt", stream).catch((e) => e);
    expect(under).toBeInstanceOf(StorageOperationError);
    expect(under.message).toBe(
      'Could not save "report.pdf/notes/a.txt" on filesystem storage: "report.pdf" is a file, so on disk it cannot ' +
        "also be a directory (S3 and memory keep both a key and keys under it): save under another name.",
    );
    expect(under.cause.cause).toMatchObject({ code: "ENOTDIR" });
    expect(stream.destroyed).toBe(true);
    const over = await storage.save("d", "over", { overwrite: true }).catch((e) => e);
    expect(over).toBeInstanceOf(StorageOperationError);
    expect(over.message).toBe(
      'Could not save "d" on filesystem storage: "d" is a directory, so on disk it cannot also be a file (S3 and ' +
        "memory keep both a key and keys under it): save under another name.",
    );
    expect(over.cause.cause).toMatchObject({ code: "EISDIR" });
    expect(await tree(location)).toEqual(["d", "d/x.txt", "report.pdf"]);
  });

  it("applies filePermissions and directoryPermissions", async () => {
    const location = freshLocation();
    const storage = new FileSystemStorage({ location, filePermissions: 0o640, directoryPermissions: 0o750 });
    await storage.save("p/q/f.txt", "x");
    expect((await stat(path.join(location, "p", "q", "f.txt"))).mode & 0o777).toBe(0o640);
    expect((await stat(path.join(location, "p", "q"))).mode & 0o777).toBe(0o750);
    expect((await stat(path.join(location, "p"))).mode & 0o777).toBe(0o750);
  });
});

describe("FileSystemStorage and symlinks", () => {
  let location: string;
  let outside: string;
  let storage: FileSystemStorage;

  beforeAll(async () => {
    location = freshLocation();
    outside = path.join(work, "outside");
    await mkdir(path.join(location, "real"), { recursive: true });
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, "secret.txt"), "secret");
    await writeFile(path.join(location, "real", "inside.txt"), "inside");
    await symlink(outside, path.join(location, "escape"));
    await symlink(path.join(outside, "secret.txt"), path.join(location, "secret-link.txt"));
    await symlink(path.join(location, "real"), path.join(location, "alias"));
    storage = new FileSystemStorage({ location });
  });

  it("refuses to read through a symlink that leaves the location", async () => {
    for (const key of ["escape/secret.txt", "secret-link.txt"]) {
      const error = await storage.read(key).catch((e) => e);
      expect(error).toBeInstanceOf(StorageOperationError);
      expect(error.cause).toBeInstanceOf(PathOutsideRootError);
      expect(error.message).toMatch(/resolves outside the storage's location/);
    }
  });

  it("refuses to write or list through such a symlink, creating nothing outside", async () => {
    await expect(storage.save("escape/new/planted.txt", "x")).rejects.toMatchObject({
      cause: expect.any(PathOutsideRootError),
    });
    await expect(storage.listdir("escape")).rejects.toMatchObject({ cause: expect.any(PathOutsideRootError) });
    expect(await tree(outside)).toEqual(["secret.txt"]);
  });

  it("deletes a symlinked file as a link, never its target", async () => {
    await storage.delete("secret-link.txt");
    expect(await readFile(path.join(outside, "secret.txt"), "utf8")).toBe("secret");
  });

  it("follows symlinks that stay inside the location", async () => {
    expect((await storage.read("alias/inside.txt")).toString()).toBe("inside");
  });

  it("works when the location itself is reached through a symlink", async () => {
    const linked = path.join(work, "linked-root");
    await symlink(path.join(location, "real"), linked);
    const viaLink = new FileSystemStorage({ location: linked });
    expect((await viaLink.read("inside.txt")).toString()).toBe("inside");
    expect(await viaLink.save("new.txt", "n")).toBe("new.txt");
  });
});

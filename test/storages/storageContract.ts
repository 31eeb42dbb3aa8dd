import { createHash, randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fromPath } from "../../src/content/fromPath";
import { FileNotFoundError } from "../../src/errors/FileNotFoundError";
import { FileValidationError } from "../../src/errors/FileValidationError";
import { InvalidKeyError } from "../../src/errors/InvalidKeyError";
import { StorageConfigError } from "../../src/errors/StorageConfigError";
import { StorageOperationError } from "../../src/errors/StorageOperationError";
import type { Storage } from "../../src/storage/Storage";
import { descriptorsOn } from "../support/openDescriptors";

export interface ContractOptions {
  /** Skip cases the backend cannot honour, each with the reason printed in the test name. */
  skip?: Partial<Record<"declaredContentType", string>>;
}

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

/** A stream of `size` pseudo-random bytes in `chunk`-sized pieces, with no declared length. */
export function generatedStream(size: number, chunk = 64 * 1024): { stream: Readable; digest: () => string } {
  const hash = createHash("md5");
  let left = size;
  const stream = new Readable({
    read() {
      if (left <= 0) return this.push(null);
      const n = Math.min(chunk, left);
      left -= n;
      const part = randomBytes(n);
      hash.update(part);
      this.push(part);
    },
  });
  return { stream, digest: () => hash.digest("hex") };
}

/**
 * The behaviour every storage must share (Rails' shared service tests): run it once per backend.
 * Each case uses its own random prefix, so backends may be shared between files.
 */
export function describeStorageContract(
  label: string,
  makeStorage: () => Promise<Storage> | Storage,
  options: ContractOptions = {},
): void {
  describe(`${label} storage contract`, () => {
    let storage: Storage;
    let prefix: string;

    beforeAll(async () => {
      storage = await makeStorage();
      await storage.ready();
    });

    beforeEach(() => {
      prefix = `contract-${randomBytes(4).toString("hex")}`;
    });

    it("saves a buffer and reads the same bytes back", async () => {
      const bytes = randomBytes(1000);
      const key = await storage.save(`${prefix}/a.bin`, bytes);
      expect(key).toBe(`${prefix}/a.bin`);
      expect(md5(await storage.read(key))).toBe(md5(bytes));
    });

    it("saves strings, Uint8Arrays, Blobs and web streams", async () => {
      const k1 = await storage.save(`${prefix}/s.txt`, "héllo");
      const k2 = await storage.save(`${prefix}/u.bin`, new Uint8Array([1, 2, 3]));
      const k3 = await storage.save(`${prefix}/b.txt`, new Blob(["blob"]));
      const k4 = await storage.save(`${prefix}/w.txt`, new Blob(["web"]).stream());
      expect((await storage.read(k1)).toString()).toBe("héllo");
      expect([...(await storage.read(k2))]).toEqual([1, 2, 3]);
      expect((await storage.read(k3)).toString()).toBe("blob");
      expect((await storage.read(k4)).toString()).toBe("web");
    });

    it("saves multer file objects (buffer or path) and local files via fromPath, ", async () => {
      const dir = await mkdtemp(join(tmpdir(), "contract-"));
      try {
        const path = join(dir, "upload.bin");
        await writeFile(path, "on disk");
        const k1 = await storage.save(`${prefix}/m1.dat`, {
          originalname: "a.csv",
          mimetype: "text/csv",
          buffer: Buffer.from("a,b"),
        });
        const k2 = await storage.save(`${prefix}/m2.dat`, { originalname: "b.txt", mimetype: "text/plain", path });
        const k3 = await storage.save(`${prefix}/p.txt`, fromPath(path));
        expect((await storage.read(k1)).toString()).toBe("a,b");
        expect((await storage.read(k2)).toString()).toBe("on disk");
        expect((await storage.read(k3)).toString()).toBe("on disk");
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    const declared = options.skip?.declaredContentType;
    (declared ? it.skip : it)(
      `keeps the content type a multer file declares${declared ? ` (skipped: ${declared})` : ""}`,
      async () => {
        const key = await storage.save(`${prefix}/m.dat`, {
          originalname: "a.csv",
          mimetype: "text/csv",
          buffer: Buffer.from("x"),
        });
        expect((await storage.stat(key)).contentType).toBe("text/csv");
      },
    );

    it("saves a local file whose size stat() does not know (a /proc file) in full", async () => {
      const key = await storage.save(`${prefix}/status.txt`, fromPath("/proc/self/status"));
      expect((await storage.read(key)).toString()).toMatch(/^Name:/);
      const dir = await mkdtemp(join(tmpdir(), "contract-empty-"));
      try {
        await writeFile(join(dir, "empty.txt"), "");
        expect(await storage.size(await storage.save(`${prefix}/empty.txt`, fromPath(join(dir, "empty.txt"))))).toBe(0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it("saves a stream of unknown length and reports its exact size", async () => {
      const { stream, digest } = generatedStream(300_000, 7_000);
      const key = await storage.save(`${prefix}/stream.bin`, stream);
      expect(await storage.size(key)).toBe(300_000);
      expect(md5(await storage.read(key))).toBe(digest());
    });

    it("reports progress while saving a stream", async () => {
      const seen: number[] = [];
      const { stream } = generatedStream(200_000, 50_000);
      await storage.save(`${prefix}/progress.bin`, stream, { onProgress: (n) => seen.push(n) });
      expect(seen.at(-1)).toBe(200_000);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
    });

    it("never overwrites by default: a taken name gets a 7-character suffix", async () => {
      const first = await storage.save(`${prefix}/same.txt`, "one");
      const second = await storage.save(`${prefix}/same.txt`, "two");
      expect(first).toBe(`${prefix}/same.txt`);
      expect(second).toMatch(new RegExp(`^${prefix}/same_[A-Za-z0-9]{7}\\.txt$`));
      expect((await storage.read(first)).toString()).toBe("one");
      expect((await storage.read(second)).toString()).toBe("two");
    });

    it("puts the suffix of a taken name before all its extensions, as Django does", async () => {
      await storage.save(`${prefix}/pack.tar.gz`, "one");
      const second = await storage.save(`${prefix}/pack.tar.gz`, "two");
      expect(second).toMatch(new RegExp(`^${prefix}/pack_[A-Za-z0-9]{7}\\.tar\\.gz$`));
      expect((await storage.read(second)).toString()).toBe("two");
    });

    it("never overwrites when saves of one name race: each lands under its own name", async () => {
      const keys = await Promise.all(
        Array.from({ length: 8 }, (_, i) => storage.save(`${prefix}/race.txt`, `writer ${i}`)),
      );
      expect(new Set(keys).size).toBe(8);
      expect(keys).toContain(`${prefix}/race.txt`);
      for (const [i, key] of keys.entries()) expect((await storage.read(key)).toString()).toBe(`writer ${i}`);
      // past the S3 multipart threshold (8 MiB), where the name is claimed before the parts are sent
      const big = await Promise.all(
        [1, 2].map((byte) => storage.save(`${prefix}/race.bin`, Readable.from([Buffer.alloc(9 * 1024 * 1024, byte)]))),
      );
      expect(new Set(big).size).toBe(2);
      for (const [i, key] of big.entries()) expect((await storage.read(key, { start: 0, end: 0 }))[0]).toBe(i + 1);
    });

    it("overwrites only when asked", async () => {
      const key = await storage.save(`${prefix}/o.txt`, "one");
      expect(await storage.save(key, "two", { overwrite: true })).toBe(key);
      expect((await storage.read(key)).toString()).toBe("two");
    });

    it("truncates an alternative name to maxLength and refuses when nothing is left", async () => {
      const long = `${prefix}/${"x".repeat(40)}.txt`;
      await storage.save(long, "1");
      const alt = await storage.save(long, "2", { maxLength: long.length });
      expect([...alt].length).toBeLessThanOrEqual(long.length);
      expect(alt).not.toBe(long);
      await expect(storage.save(long, "3", { maxLength: prefix.length + 6 })).rejects.toBeInstanceOf(InvalidKeyError);
    });

    it("shortens the stem to maxLength when overwriting, keeping directory and extension, and refuses when nothing is left", async () => {
      const long = `${prefix}/ow/${"é".repeat(30)}.txt`;
      const maxLength = [...long].length - 10;
      const key = await storage.save(long, "1", { overwrite: true, maxLength });
      expect(key).toBe(`${prefix}/ow/${"é".repeat(20)}.txt`);
      // the same long name lands on the same key again, replacing it (django-storages' overwrite name)
      expect(await storage.save(long, "2", { overwrite: true, maxLength })).toBe(key);
      expect((await storage.read(key)).toString()).toBe("2");
      await expect(
        storage.save(long, "3", { overwrite: true, maxLength: `${prefix}/ow/.txt`.length }),
      ).rejects.toBeInstanceOf(InvalidKeyError);
    });

    it("reads inclusive byte ranges", async () => {
      const key = await storage.save(`${prefix}/r.txt`, "0123456789");
      expect((await storage.read(key, { start: 2, end: 5 })).toString()).toBe("2345");
      expect((await storage.read(key, { start: 7 })).toString()).toBe("789");
    });

    it("reads one-byte ranges at either end, and a range past the end as the bytes that exist", async () => {
      const key = await storage.save(`${prefix}/edges.txt`, "0123456789");
      expect((await storage.read(key, { start: 0, end: 0 })).toString()).toBe("0");
      expect((await storage.read(key, { start: 9, end: 9 })).toString()).toBe("9");
      expect((await storage.read(key, { start: 8, end: 100 })).toString()).toBe("89");
      const chunks: string[] = [];
      for await (const chunk of await storage.open(key, { start: 0, end: 0 })) chunks.push(String(chunk));
      expect(chunks.join("")).toBe("0");
    });

    it("hands out bytes that are the reader's own: changing them in place changes no stored file", async () => {
      const given = Buffer.from("0123456789");
      const key = await storage.save(`${prefix}/mine.txt`, given);
      given.fill(0x78);
      for await (const chunk of await storage.open(key)) (chunk as Buffer).fill(0x79);
      for await (const chunk of await storage.open(key, { start: 2, end: 5 })) (chunk as Buffer).fill(0x7a);
      (await storage.read(key)).fill(0x7a);
      expect((await storage.read(key)).toString()).toBe("0123456789");
    });

    it("reads a range that starts at or past the end as no bytes", async () => {
      const key = await storage.save(`${prefix}/ten.txt`, "0123456789");
      expect((await storage.read(key, { start: 10 })).toString()).toBe("");
      expect((await storage.read(key, { start: 50, end: 60 })).toString()).toBe("");
    });

    it("refuses content that brings fewer or more bytes than it declared, and stores nothing", async () => {
      /** A Blob that declares another size than it holds, as a file cut short while it is read does. */
      const declaring = (size: number) =>
        new (class extends Blob {
          override get size() {
            return size;
          }
        })(["0123456789"]);
      for (const size of [1000, 4]) {
        const error = await storage.save(`${prefix}/short-${size}.txt`, declaring(size)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageOperationError);
        expect(((error as Error).cause as Error).message).toBe(
          `The content ended after 10 bytes; ${size} were announced.`,
        );
      }
      expect((await storage.listdir(prefix)).files).toEqual([]);
    });

    it("closes a file it was given when the save is aborted before it starts", async () => {
      const dir = await mkdtemp(join(tmpdir(), "contract-abort-"));
      const path = join(dir, "given.bin");
      try {
        await writeFile(path, "some bytes");
        const controller = new AbortController();
        controller.abort();
        for (let i = 0; i < 3; i++) {
          const error = await storage
            .save(`${prefix}/aborted-${i}.bin`, fromPath(path), { signal: controller.signal })
            .catch((e: unknown) => e);
          expect((error as Error).name).toBe("AbortError");
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(await descriptorsOn(path)).toBe(0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it("closes a stream it refuses before reading (a bad key, a bad limit, a name too long)", async () => {
      const refusals: [string, object][] = [
        ["../escape.txt", {}],
        [`${prefix}/a.txt`, { accept: ["txt"] }],
        [`${prefix}/${"n".repeat(40)}.txt`, { maxLength: 10 }],
      ];
      for (const [name, options] of refusals) {
        const stream = Readable.from(["never read"]);
        await expect(storage.save(name, stream, options)).rejects.toThrow();
        expect(stream.destroyed).toBe(true);
      }
    });

    it("refuses an explicit contentType that is not one content type, before writing", async () => {
      const error = await storage
        .save(`${prefix}/a.png`, "x", { contentType: "image/png, text/html", accept: ["image/*"] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FileValidationError);
      expect((error as FileValidationError).rule).toBe("accept");
      expect(await storage.exists(`${prefix}/a.png`)).toBe(false);
    });

    it("stats size, content type, modification time and etag in one call", async () => {
      const before = Date.now() - 2000;
      const key = await storage.save(`${prefix}/page.json`, '{"a":1}');
      const stat = await storage.stat(key);
      expect(stat.size).toBe(7);
      expect(stat.contentType).toBe("application/json");
      expect(stat.lastModified.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(typeof stat.etag).toBe("string");
      expect((await storage.getModifiedTime(key)).getTime()).toBe(stat.lastModified.getTime());
    });

    it("follows the not-found triad: exists is false, delete is a no-op, reads throw FileNotFoundError", async () => {
      const key = `${prefix}/missing.txt`;
      expect(await storage.exists(key)).toBe(false);
      await expect(storage.delete(key)).resolves.toBeUndefined();
      for (const attempt of [() => storage.read(key), () => storage.size(key), () => storage.stat(key)]) {
        const error = await attempt().then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(FileNotFoundError);
        expect(error).toMatchObject({ code: "FILE_NOT_FOUND", key });
      }
    });

    it("deletes what it saved", async () => {
      const key = await storage.save(`${prefix}/d.txt`, "x");
      expect(await storage.exists(key)).toBe(true);
      await storage.delete(key);
      expect(await storage.exists(key)).toBe(false);
    });

    it("lists directories and files relative to a prefix", async () => {
      await storage.save(`${prefix}/l/one.txt`, "1");
      await storage.save(`${prefix}/l/two.txt`, "2");
      await storage.save(`${prefix}/l/sub/three.txt`, "3");
      const listing = await storage.listdir(`${prefix}/l`);
      expect(listing.files.sort()).toEqual(["one.txt", "two.txt"]);
      expect(listing.directories).toEqual(["sub"]);
      expect(await storage.listdir(`${prefix}/nothing-here`)).toEqual({ directories: [], files: [] });
    });

    it("lists in one order on every storage: by UTF-16 code units, as listAll and Array.prototype.sort", async () => {
      // S3 lists by UTF-8 bytes, which puts U+FF01 before an emoji (a surrogate pair) and JavaScript after
      for (const name of ["b", "😀", "\uFF01", "Z", "a"]) {
        await storage.save(`${prefix}/o/${name}`, name);
        await storage.save(`${prefix}/o/d${name}/f`, name);
      }
      const order = ["Z", "a", "b", "😀", "\uFF01"];
      expect(await storage.listdir(`${prefix}/o`)).toEqual({ directories: order.map((n) => `d${n}`), files: order });
      expect((await storage.listAll(`${prefix}/o`)).filter((o) => !o.name.endsWith("/f")).map((o) => o.name)).toEqual(
        order.map((n) => `${prefix}/o/${n}`),
      );
    });

    it("lists every object under a prefix at any depth, sorted, with size and modification time", async () => {
      const before = Date.now();
      await storage.save(`${prefix}/all/one.txt`, "1");
      await storage.save(`${prefix}/all/sub/two.txt`, "22");
      await storage.save(`${prefix}/all/sub/deeper/three.txt`, "333");
      await storage.save(`${prefix}/all/sub/ünï cödé+%20.txt`, "4444");
      await storage.save(`${prefix}/allx.txt`, "not under all/");
      const all = await storage.listAll(`${prefix}/all`);
      expect(all.map((o) => [o.name, o.storedSize])).toEqual([
        [`${prefix}/all/one.txt`, 1],
        [`${prefix}/all/sub/deeper/three.txt`, 3],
        [`${prefix}/all/sub/two.txt`, 2],
        [`${prefix}/all/sub/ünï cödé+%20.txt`, 4],
      ]);
      for (const object of all) {
        expect(object.lastModified).toBeInstanceOf(Date);
        // seconds resolution on S3; the servers run on this machine
        expect(object.lastModified.getTime()).toBeGreaterThan(before - 5000);
        if (object.md5 !== null) expect(object.md5).toBe(md5(await storage.read(object.name)));
      }
      expect(await storage.listAll(`${prefix}/all/`)).toEqual(all);
      expect((await storage.listAll(prefix)).length).toBe(5);
      expect(await storage.listAll(`${prefix}/nothing-here`)).toEqual([]);
      await expect(storage.listAll("../x")).rejects.toBeInstanceOf(InvalidKeyError);
    });

    it("keeps unusual but valid keys intact", async () => {
      for (const name of ["with space.txt", "ünïcödé/日本語 ファイル.txt", "plus+sign.txt", "a+b c%20d.txt"]) {
        const key = await storage.save(`${prefix}/${name}`, name);
        expect(key).toBe(`${prefix}/${name}`);
        expect((await storage.read(key)).toString()).toBe(name);
      }
    });

    it("refuses keys that could escape the storage, before any I/O", async () => {
      for (const bad of ["../x", "a/../../x", "/abs", "a\\b", "nul\u0000", "ctl\u001b", "a//b", "", "dir/"]) {
        await expect(storage.save(bad, "x")).rejects.toBeInstanceOf(InvalidKeyError);
        await expect(storage.exists(bad)).rejects.toBeInstanceOf(InvalidKeyError);
        expect(() => storage.url(bad)).toThrow(InvalidKeyError);
      }
    });

    it("refuses a key with an unpaired UTF-16 surrogate (no UTF-8 form) and stores a paired one as given", async () => {
      // e.g. uploadTo: (user, f) => `users/${user.nickname}/${f}`, the nickname from a JSON body ("\ud800" is valid JSON)
      for (const bad of [`${prefix}/a\uD800/photo.txt`, `${prefix}/photo\uDC00.txt`, `${prefix}/\uDE00\uD83D.txt`]) {
        await expect(storage.save(bad, "mine")).rejects.toThrow(/unpaired UTF-16 surrogates cannot be stored/);
        await expect(storage.exists(bad)).rejects.toBeInstanceOf(InvalidKeyError);
        expect(() => storage.url(bad)).toThrow(InvalidKeyError);
      }
      const key = await storage.save(`${prefix}/a\uD83D\uDE00/photo.txt`, "mine");
      expect(key).toBe(`${prefix}/a😀/photo.txt`);
      expect((await storage.listAll(`${prefix}/a😀`)).map((o) => o.name)).toEqual([key]);
      expect(storage.url(key)).toContain("/a%F0%9F%98%80/photo.txt");
      expect((await storage.read(key)).toString()).toBe("mine");
    });

    it("gives a local path only on disk; elsewhere path() throws StorageConfigError saying so", async () => {
      const key = await storage.save(`${prefix}/local.txt`, "here");
      if (storage.driver.path !== undefined) {
        expect((await readFile(storage.path(key))).toString()).toBe("here");
        return;
      }
      const error = (() => {
        try {
          return storage.path(key);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(StorageConfigError);
      expect(error).toMatchObject({ code: "STORAGE_CONFIG", key });
      expect((error as Error).message).toMatch(/has no local paths .*: read the file with open\(\) or read\(\)/);
    });

    it("builds a URL synchronously", async () => {
      const key = await storage.save(`${prefix}/u r l.txt`, "x");
      const url = storage.url(key);
      expect(typeof url).toBe("string");
      expect(url).toContain("u%20r%20l.txt");
    });

    it("rejects a stream that fails midway with StorageOperationError, and leaves no file or directory behind", async () => {
      /** `size` bytes in 64 KiB pieces, then the error a dropped upload or a failing disk gives. */
      const failing = (size: number) => {
        let left = size;
        return new Readable({
          read() {
            if (left <= 0) return this.destroy(new Error("connection reset midway"));
            const n = Math.min(64 * 1024, left);
            left -= n;
            this.push(randomBytes(n));
          },
        });
      };
      // under and past the S3 multipart threshold (8 MiB)
      for (const size of [100_000, 9 * 1024 * 1024]) {
        const name = `${prefix}/new/deeper/failed-${size}.bin`;
        const error = await storage.save(name, failing(size)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageOperationError);
        expect(error).toMatchObject({ operation: "save", key: name });
        expect(((error as Error).cause as Error).message).toBe("connection reset midway");
        expect(await storage.exists(name)).toBe(false);
      }
      // an aborted save leaves no directory either
      const controller = new AbortController();
      const { stream } = generatedStream(2_000_000);
      await expect(
        storage.save(`${prefix}/aborted/dir/a.bin`, stream, {
          signal: controller.signal,
          onProgress: (n) => n > 100_000 && controller.abort(),
        }),
      ).rejects.toThrow();
      // as S3 and memory, where a directory is only a prefix of some key, the disk keeps none for nothing
      expect(await storage.listdir(prefix)).toEqual({ directories: [], files: [] });
    });

    it("aborts a save on signal and leaves nothing behind", async () => {
      const controller = new AbortController();
      const { stream } = generatedStream(5_000_000, 64 * 1024);
      let sent = 0;
      const saving = storage.save(`${prefix}/aborted.bin`, stream, {
        signal: controller.signal,
        onProgress: (n) => {
          sent = n;
          if (n > 200_000) controller.abort();
        },
      });
      await expect(saving).rejects.toThrow();
      expect(sent).toBeGreaterThan(0);
      expect(await storage.exists(`${prefix}/aborted.bin`)).toBe(false);
      expect((await storage.listdir(prefix)).files).toEqual([]);
    });

    it("refuses content over maxSize with FileValidationError and stores nothing, known sizes before writing", async () => {
      const dir = await mkdtemp(join(tmpdir(), "contract-max-"));
      try {
        const file = join(dir, "big.bin");
        await writeFile(file, Buffer.alloc(2000, 1));
        for (const content of [Buffer.alloc(1001), fromPath(file), new Blob([Buffer.alloc(1001)])]) {
          const error = await storage.save(`${prefix}/big.bin`, content, { maxSize: 1000 }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(FileValidationError);
          expect(error).toMatchObject({ rule: "maxSize", code: "FILE_VALIDATION", key: `${prefix}/big.bin` });
          expect((error as Error).message).toMatch(/bytes, over the 1000 bytes allowed; nothing was stored\.$/);
        }
        expect((await storage.listdir(prefix)).files).toEqual([]);
        const key = await storage.save(`${prefix}/exact.bin`, Buffer.alloc(1000), { maxSize: 1000 });
        expect(await storage.size(key)).toBe(1000);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it("stops a stream of unknown length at maxSize, past the multipart threshold too, and leaves nothing behind", async () => {
      for (const [size, maxSize] of [
        [300_000, 200_000],
        [12 * 1024 * 1024, 9 * 1024 * 1024],
      ]) {
        const { stream } = generatedStream(size);
        const error = await storage.save(`${prefix}/s${size}.bin`, stream, { maxSize }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(FileValidationError);
        expect((error as Error).message).toBe(
          `Cannot save "${prefix}/s${size}.bin": it is over the ${maxSize} bytes allowed; nothing was stored.`,
        );
      }
      expect((await storage.listdir(prefix)).files).toEqual([]);
      const { stream } = generatedStream(200_000);
      expect(await storage.size(await storage.save(`${prefix}/fits.bin`, stream, { maxSize: 200_000 }))).toBe(200_000);
      // a file whose stat() size understates its content (a FIFO, /proc, a file still growing) is counted too
      const procFile = await storage
        .save(`${prefix}/maps.txt`, fromPath("/proc/self/maps"), { maxSize: 100 })
        .catch((e: unknown) => e);
      expect(procFile).toBeInstanceOf(FileValidationError);
      expect(await storage.exists(`${prefix}/maps.txt`)).toBe(false);
    });

    it("accepts only the content types and extensions in accept, before writing", async () => {
      const accept = ["image/*", ".pdf"];
      expect(await storage.save(`${prefix}/a.png`, "png", { accept })).toBe(`${prefix}/a.png`);
      expect(await storage.save(`${prefix}/b.PDF`, "pdf", { accept })).toBe(`${prefix}/b.PDF`);
      // The type the object is served with decides: the declared one, or on disk (which keeps no type)
      // the one its name gives, whatever was declared.
      const keepsType = options.skip?.declaredContentType === undefined;
      const declaredWebp = storage.save(`${prefix}/notes`, "n", { accept, contentType: "image/webp" });
      if (keepsType) expect(await declaredWebp).toBe(`${prefix}/notes`);
      else await expect(declaredWebp).rejects.toBeInstanceOf(FileValidationError);
      const error = await storage.save(`${prefix}/c.html`, "<p>", { accept }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FileValidationError);
      expect(error).toMatchObject({ rule: "accept" });
      expect((error as Error).message).toBe(
        `Cannot save "${prefix}/c.html": text/html files (.html) are not accepted here; upload image/*, .pdf; nothing was stored.`,
      );
      const claimed = await storage
        .save(`${prefix}/d.png`, "x", { accept, contentType: "text/html" })
        .catch((e: unknown) => e);
      if (keepsType) expect(claimed).toBeInstanceOf(FileValidationError);
      else expect((await storage.stat(claimed as string)).contentType).toBe("image/png");
      expect(await storage.exists(`${prefix}/c.html`)).toBe(false);
      expect(await storage.exists(`${prefix}/d.png`)).toBe(!keepsType);
      expect(await storage.save(`${prefix}/f.TAR.gz`, "x", { accept: [".tar.gz"] })).toBe(`${prefix}/f.TAR.gz`);
      await expect(storage.save(`${prefix}/e.png`, "x", { accept: ["png"] })).rejects.toThrow(
        'accept entry "png" is neither a content type',
      );
      // a bad option is refused before the content is opened: no file handle is left behind
      const open = readdirSync("/proc/self/fd").length;
      for (let i = 0; i < 10; i++)
        await storage.save(`${prefix}/g.txt`, fromPath("/proc/self/maps"), { accept: ["txt"] }).catch(() => undefined);
      expect(readdirSync("/proc/self/fd").length).toBeLessThan(open + 5);
    });

    it("rejects unsupported content with a typed error and writes nothing", async () => {
      const error = await storage.save(`${prefix}/bad.txt`, 42 as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageOperationError);
      expect(error).toMatchObject({ operation: "save", cause: expect.any(TypeError) });
      expect((error as Error).message).toMatch(/Unsupported content/);
      expect(await storage.exists(`${prefix}/bad.txt`)).toBe(false);
    });
  });
}

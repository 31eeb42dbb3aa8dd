import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { MemoryDriver } from "../../src/drivers/memory/MemoryDriver";
import { InMemoryStorage } from "../../src/storage/InMemoryStorage";

describe("InMemoryStorage", () => {
  it("builds URLs from /media/ by default and from a custom baseUrl, percent-encoding each segment", () => {
    expect(new InMemoryStorage().url("docs/a b/ü?.txt")).toBe("/media/docs/a%20b/%C3%BC%3F.txt");
    expect(new InMemoryStorage({ baseUrl: "https://cdn.example/files" }).url("x.png")).toBe(
      "https://cdn.example/files/x.png",
    );
  });

  it("refuses URL options every signing backend refuses, so a test on a fake fails where production would", () => {
    const storage = new InMemoryStorage();
    for (const expiresIn of [0, -60, Number.NaN, Number.POSITIVE_INFINITY, 1e12])
      expect(() => storage.url("a.pdf", { expiresIn })).toThrow(/expiresIn must be a positive number of seconds/);
    expect(() => storage.url("a.pdf", { contentType: "text/html\r\nSet-Cookie: a=b" })).toThrow(
      /is not a valid header value/,
    );
    expect(storage.url("a.pdf", { expiresIn: 60, contentType: "application/pdf", download: "a.pdf" })).toBe(
      "/media/a.pdf",
    );
  });

  it("stats the MD5 of the bytes as ETag, the given content type and the write time", async () => {
    const storage = new InMemoryStorage();
    const before = Date.now();
    const key = await storage.save("doc.bin", Buffer.from("hello"), { contentType: "application/x-custom" });
    const stat = await storage.stat(key);
    expect(stat).toEqual({
      size: 5,
      contentType: "application/x-custom",
      lastModified: expect.any(Date),
      etag: createHash("md5").update("hello").digest("hex"),
    });
    expect(stat.lastModified.getTime()).toBeGreaterThanOrEqual(before);
  });

  it("keeps a copy of the bytes, so mutating the saved buffer changes nothing", async () => {
    const storage = new InMemoryStorage();
    const buffer = Buffer.from("abc");
    const key = await storage.save("copy.txt", buffer);
    buffer.write("xyz");
    expect((await storage.read(key)).toString()).toBe("abc");
  });

  it("stores html, svg and xml with Content-Disposition: attachment unless allowUnsafeInline", async () => {
    const strict = new InMemoryStorage();
    const relaxed = new InMemoryStorage({ allowUnsafeInline: true });
    await strict.save("x.svg", "<svg/>");
    await relaxed.save("x.svg", "<svg/>");
    await strict.save("x.png", "png");
    expect((strict.driver as MemoryDriver).contentDisposition("x.svg")).toBe("attachment");
    expect((relaxed.driver as MemoryDriver).contentDisposition("x.svg")).toBeNull();
    expect((strict.driver as MemoryDriver).contentDisposition("x.png")).toBeNull();
  });

  it("gives concurrent no-overwrite saves of one key distinct keys, each with its own bytes", async () => {
    const storage = new InMemoryStorage();
    const bodies = Array.from({ length: 20 }, (_, i) => `body ${i}`);
    const keys = await Promise.all(bodies.map((body) => storage.save("race/same.txt", Readable.from([body]))));
    expect(new Set(keys).size).toBe(20);
    expect(keys).toContain("race/same.txt");
    const read = await Promise.all(keys.map(async (key) => (await storage.read(key)).toString()));
    expect(read.sort()).toEqual([...bodies].sort());
  });

  it("stops consuming a stream when the signal aborts and stores nothing", async () => {
    const storage = new InMemoryStorage();
    const controller = new AbortController();
    const stream = new Readable({ read() {} });
    stream.push("first part");
    const saving = storage.save("aborted.txt", stream, { signal: controller.signal });
    setImmediate(() => controller.abort());
    await expect(saving).rejects.toMatchObject({ name: "AbortError" });
    expect(stream.destroyed).toBe(true);
    expect(await storage.exists("aborted.txt")).toBe(false);
  });

  it("lists nested keys as directories and files, sorted", async () => {
    const storage = new InMemoryStorage();
    for (const key of ["a/z.txt", "a/b.txt", "a/sub/c.txt", "a/sub2/d/e.txt", "ab.txt"]) await storage.save(key, "x");
    expect(await storage.listdir("a")).toEqual({ directories: ["sub", "sub2"], files: ["b.txt", "z.txt"] });
    expect(await storage.listdir("")).toEqual({ directories: ["a"], files: ["ab.txt"] });
  });

  it("forgets everything on clear()", async () => {
    const storage = new InMemoryStorage();
    await storage.save("x.txt", "x");
    storage.clear();
    expect(await storage.exists("x.txt")).toBe(false);
  });

  it("reads ranges that run past the end as the bytes that exist", async () => {
    const storage = new InMemoryStorage();
    await storage.save("r.txt", "0123");
    expect((await storage.read("r.txt", { start: 2, end: 99 })).toString()).toBe("23");
    expect((await storage.read("r.txt", { start: 9 })).toString()).toBe("");
  });

  it("reports itself as the memory driver", () => {
    expect(new InMemoryStorage().driver).toBeInstanceOf(MemoryDriver);
    expect(new InMemoryStorage().driver.kind).toBe("memory");
  });
});

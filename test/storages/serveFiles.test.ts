import { execFile } from "node:child_process";
import { appendFileSync, truncateSync } from "node:fs";
import { mkdtemp, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { Agent, createServer, request, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import express from "express";
import { StorageConfigError } from "../../src/errors/StorageConfigError";
import { serveFiles } from "../../src/http/serveFiles";
import { UrlSigner } from "../../src/http/UrlSigner";
import { FileSystemStorage } from "../../src/storage/FileSystemStorage";
import { InMemoryStorage } from "../../src/storage/InMemoryStorage";
import { descriptorsOn } from "../support/openDescriptors";

const SECRET = "serve-files-test-secret-32-bytes";
const NEXT_MARKER = "next() was called";

let work: string;
let publicStorage: FileSystemStorage;
let privateStorage: FileSystemStorage;
let inlineStorage: FileSystemStorage;
const servers: Server[] = [];

/** Starts a plain node:http server on 127.0.0.1:0 and resolves with its origin. */
async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A node:http server whose fallback (the `next` of serveFiles) answers 418 with a marker. */
function plainServer(storage: FileSystemStorage): Promise<string> {
  const serve = serveFiles(storage);
  return listen((req, res) =>
    serve(req, res, () => {
      res.statusCode = 418;
      res.end(NEXT_MARKER);
    }),
  );
}

/** Sends `rawPath` byte for byte (fetch would normalise `..` and `\`), resolving with status and body. */
function rawGet(origin: string, rawPath: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: rawPath, method: "GET" }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Replaces (or adds) one query parameter of a path-only URL. */
function withParam(url: string, name: string, value: string): string {
  const parsed = new URL(url, "http://x");
  parsed.searchParams.set(name, value);
  return parsed.pathname + parsed.search;
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "typeorm-storages-serve-"));
  await writeFile(path.join(work, "secret.txt"), "TOP SECRET");
  publicStorage = new FileSystemStorage({ location: path.join(work, "media") });
  privateStorage = new FileSystemStorage({
    location: path.join(work, "private"),
    baseUrl: "/private/",
    querystringAuth: true,
    signingSecret: SECRET,
  });
  inlineStorage = new FileSystemStorage({
    location: path.join(work, "inline"),
    baseUrl: "/inline/",
    allowUnsafeInline: true,
  });
  await publicStorage.save("hello.txt", "hello, world");
  await publicStorage.save("docs/ü b.txt", "unicode");
  await publicStorage.save("logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
  await publicStorage.save("empty.txt", "");
  await publicStorage.save("big.bin", Buffer.alloc(16 * 1024 * 1024, 7));
  await privateStorage.save("contract.pdf", "%PDF-1.7 private");
  await privateStorage.save("other.pdf", "%PDF-1.7 other");
  await inlineStorage.save("logo.svg", "<svg/>");
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await rm(work, { recursive: true, force: true });
});

describe("serveFiles on a public FileSystemStorage (node:http)", () => {
  let origin: string;

  beforeAll(async () => {
    origin = await plainServer(publicStorage);
  });

  it("serves a file with its type, length, validators, nosniff and a public cache lifetime", async () => {
    const res = await fetch(`${origin}${publicStorage.url("hello.txt")}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("hello, world");
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(res.headers.get("content-length")).toBe("12");
    expect(res.headers.get("etag")).toBe((await publicStorage.stat("hello.txt")).etag);
    expect(res.headers.get("last-modified")).toBe((await publicStorage.getModifiedTime("hello.txt")).toUTCString());
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("public, max-age=3600");
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("content-disposition")).toBeNull();
  });

  it("caches unsigned files maxAgeSeconds, hashed static copies maxAgeSecondsCached and immutable, signed ones privately", async () => {
    await publicStorage.save("css/site.0123456789ab.css", "a{}", { overwrite: true });
    await privateStorage.save("css/p.0123456789ab.css", "p{}", { overwrite: true });
    const cacheControl = async (storage: FileSystemStorage, name: string, options?: object) => {
      const serve = serveFiles(storage, options);
      const origin = await listen((req, res) => serve(req, res));
      return (await fetch(`${origin}${storage.url(name)}`)).headers.get("cache-control");
    };
    const options = { maxAgeSeconds: 60, maxAgeSecondsCached: 31536000 };
    expect(await cacheControl(publicStorage, "css/site.0123456789ab.css")).toBe("public, max-age=3600");
    expect(await cacheControl(publicStorage, "css/site.0123456789ab.css", options)).toBe(
      "public, max-age=31536000, immutable",
    );
    expect(await cacheControl(publicStorage, "hello.txt", options)).toBe("public, max-age=60");
    expect(await cacheControl(privateStorage, "css/p.0123456789ab.css", options)).toMatch(/^private, max-age=\d+$/);
    expect(() => serveFiles(publicStorage, { maxAgeSecondsCached: -1 })).toThrow(StorageConfigError);
    expect(() => serveFiles(publicStorage, { maxAgeSeconds: 1.5 })).toThrow(
      "serveFiles(): maxAgeSeconds must be a whole number of seconds",
    );
  });

  it("serves keys with spaces and unicode through the URL the storage builds", async () => {
    const res = await fetch(`${origin}${publicStorage.url("docs/ü b.txt")}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("unicode");
  });

  it("answers HEAD with the headers and no body, and an empty file with an empty 200", async () => {
    const head = await fetch(`${origin}/media/hello.txt`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("12");
    expect(await head.text()).toBe("");
    const empty = await fetch(`${origin}/media/empty.txt`);
    expect(empty.status).toBe(200);
    expect(empty.headers.get("content-length")).toBe("0");
    expect(await empty.text()).toBe("");
  });

  it("calls next() for paths outside its base URL", async () => {
    for (const foreign of ["/other/hello.txt", "/media", "/mediahello.txt", "/"]) {
      const res = await fetch(`${origin}${foreign}`);
      expect(res.status).toBe(418);
      expect(await res.text()).toBe(NEXT_MARKER);
    }
  });

  it("answers 404 for a missing file, a directory and the base path itself", async () => {
    for (const missing of ["/media/nope.txt", "/media/docs", "/media/docs/", "/media/"]) {
      const res = await fetch(`${origin}${missing}`);
      expect(res.status).toBe(404);
      expect(await res.text()).toBe("Not Found\n");
    }
  });

  it("answers 404, not 500, for a name too long for the file system and for a symlink loop", async () => {
    const media = path.join(work, "media");
    await symlink(path.join(media, "loop-b"), path.join(media, "loop-a"));
    await symlink(path.join(media, "loop-a"), path.join(media, "loop-b"));
    for (const bad of [`/media/${"a".repeat(300)}`, `/media/d/${"b".repeat(300)}.txt`, "/media/loop-a"]) {
      const res = await fetch(`${origin}${bad}`);
      expect(res.status).toBe(404);
    }
    expect(await publicStorage.exists("a".repeat(300))).toBe(false);
  });

  it("refuses a FIFO in the folder at once, without tying up the file system threads", async () => {
    const fifo = path.join(work, "media", "pipe.txt");
    await promisify(execFile)("mkfifo", [fifo]);
    // more requests than libuv has threads (4): an open() that blocked would stall every later one
    const answers = await Promise.all(Array.from({ length: 6 }, () => fetch(`${origin}/media/pipe.txt`)));
    expect(answers.map((r) => r.status)).toEqual([404, 404, 404, 404, 404, 404]);
    expect((await fetch(`${origin}/media/hello.txt`)).status).toBe(200);
  });

  it("sends an empty file whole for a suffix range", async () => {
    const res = await fetch(`${origin}/media/empty.txt`, { headers: { Range: "bytes=-1" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("0");
  });

  it("refuses methods other than GET and HEAD with 405 and Allow", async () => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      const res = await fetch(`${origin}/media/hello.txt`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD");
    }
    expect((await publicStorage.read("hello.txt")).toString()).toBe("hello, world");
  });

  it("serves a single byte range with 206 and Content-Range", async () => {
    const res = await fetch(`${origin}/media/hello.txt`, { headers: { Range: "bytes=7-11" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe("bytes 7-11/12");
    expect(res.headers.get("content-length")).toBe("5");
    expect(await res.text()).toBe("world");
    const suffix = await fetch(`${origin}/media/hello.txt`, { headers: { Range: "bytes=-5" } });
    expect(await suffix.text()).toBe("world");
  });

  it("answers 416 with the size for an unsatisfiable range, and 200 for several ranges", async () => {
    const res = await fetch(`${origin}/media/hello.txt`, { headers: { Range: "bytes=12-" } });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe("bytes */12");
    const multi = await fetch(`${origin}/media/hello.txt`, { headers: { Range: "bytes=0-1,3-4" } });
    expect(multi.status).toBe(200);
    expect(await multi.text()).toBe("hello, world");
  });

  it("answers 304 to a matching If-None-Match or a current If-Modified-Since", async () => {
    const first = await fetch(`${origin}/media/hello.txt`);
    const etag = first.headers.get("etag") as string;
    const lastModified = first.headers.get("last-modified") as string;
    await first.arrayBuffer();
    const byTag = await fetch(`${origin}/media/hello.txt`, { headers: { "If-None-Match": etag } });
    expect(byTag.status).toBe(304);
    expect(byTag.headers.get("etag")).toBe(etag);
    expect(await byTag.text()).toBe("");
    const byDate = await fetch(`${origin}/media/hello.txt`, { headers: { "If-Modified-Since": lastModified } });
    expect(byDate.status).toBe(304);
    const stale = await fetch(`${origin}/media/hello.txt`, { headers: { "If-None-Match": '"stale"' } });
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe("hello, world");
  });

  it("answers 412 to a failed If-Match or If-Unmodified-Since, even for a range (RFC 9110 §13.1.1, §13.1.4)", async () => {
    const { etag } = await publicStorage.stat("hello.txt");
    const epoch = new Date(0).toUTCString();
    const failing: Record<string, string>[] = [
      { "If-Match": '"an-older-version"' },
      { "If-Match": '"an-older-version"', Range: "bytes=6-" }, // a resumed download of another version
      { "If-Match": etag as string }, // weak: If-Match compares strongly
      { "If-Unmodified-Since": epoch },
      { "If-Unmodified-Since": epoch, "If-None-Match": etag as string }, // checked before If-None-Match
    ];
    for (const headers of failing) {
      const res = await fetch(`${origin}/media/hello.txt`, { headers });
      expect([res.status, await res.text()]).toEqual([
        412,
        "Precondition Failed: the file is not the version If-Match or If-Unmodified-Since names.\n",
      ]);
    }
    const passing: Record<string, string>[] = [
      { "If-Match": "*" },
      { "If-Unmodified-Since": new Date().toUTCString() },
    ];
    for (const headers of passing) {
      const res = await fetch(`${origin}/media/hello.txt`, { headers: { ...headers, Range: "bytes=7-" } });
      expect([res.status, await res.text()]).toEqual([206, "world"]);
    }
    // a missing file is still a 404: preconditions apply to what exists
    expect((await fetch(`${origin}/media/nothing.txt`, { headers: { "If-Match": '"x"' } })).status).toBe(404);
  });

  it("sends the new bytes, not 304, for a file replaced by as many bytes within one tick of the clock", async () => {
    const mtime = new Date("2024-01-01T00:00:00Z");
    await publicStorage.save("avatar.txt", "old!", { overwrite: true });
    await utimes(publicStorage.path("avatar.txt"), mtime, mtime);
    const first = await fetch(`${origin}/media/avatar.txt`);
    const etag = first.headers.get("etag") as string;
    await first.arrayBuffer();
    await publicStorage.save("avatar.txt", "new!", { overwrite: true });
    await utimes(publicStorage.path("avatar.txt"), mtime, mtime);
    const again = await fetch(`${origin}/media/avatar.txt`, { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(200);
    expect(await again.text()).toBe("new!");
  });

  it("never sends a Last-Modified later than its Date, so a file's future time cannot earn a stale 304", async () => {
    // a file copied with its times from a machine whose clock was ahead (rsync -t, tar)
    const day = 24 * 3600 * 1000;
    const tomorrow = new Date(Date.now() + day);
    await publicStorage.save("skewed.txt", "old!", { overwrite: true });
    await utimes(publicStorage.path("skewed.txt"), tomorrow, tomorrow);
    const first = await fetch(`${origin}/media/skewed.txt`);
    await first.arrayBuffer();
    const lastModified = first.headers.get("last-modified") as string;
    expect(Date.parse(lastModified)).toBeLessThanOrEqual(Date.parse(first.headers.get("date") as string));
    // replaced by a copy from the same machine, an hour later by its clock: still in the future here
    await publicStorage.save("skewed.txt", "new!", { overwrite: true });
    const inAnHour = new Date(Date.now() + day / 24);
    await utimes(publicStorage.path("skewed.txt"), inAnHour, inAnHour);
    const again = await fetch(`${origin}/media/skewed.txt`, { headers: { "If-Modified-Since": lastModified } });
    expect([again.status, await again.text()]).toEqual([200, "new!"]);
  });

  it("serves every XML dialect as an attachment (mathml, rdf, xslt, atom)", async () => {
    for (const name of ["f.mathml", "f.rdf", "f.xslt", "f.atom"]) {
      await publicStorage.save(name, "<x/>", { overwrite: true });
      const res = await fetch(`${origin}/media/${name}`);
      expect(res.headers.get("content-type")).toMatch(/\+xml/);
      expect(res.headers.get("content-disposition")).toMatch(/^attachment;/);
    }
  });

  it("serves svg as an attachment named after the file", async () => {
    const res = await fetch(`${origin}/media/logo.svg`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml");
    expect(res.headers.get("content-disposition")).toBe("attachment; filename=\"logo.svg\"; filename*=UTF-8''logo.svg");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("ignores unsigned response overrides on a public storage", async () => {
    const res = await fetch(`${origin}/media/hello.txt?response-content-type=text/html`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain");
  });

  it("answers 400 for malformed percent-encoding", async () => {
    const res = await rawGet(origin, "/media/%E0%A4%A.txt");
    expect(res).toEqual({ status: 400, body: "Bad Request: malformed percent-encoding in the path.\n" });
  });

  it("never serves anything outside the location, however the path is spelled", async () => {
    const attempts = [
      "/media/..%2fsecret.txt",
      "/media/..%2f..%2fetc/passwd",
      "/media/../secret.txt",
      "/media/%2e%2e/secret.txt",
      "/media/%2e%2e%2fsecret.txt",
      "/media/..%5csecret.txt",
      "/media/..\\secret.txt",
      "/media/hello.txt%00.png",
      "/media/%00",
      "/media//secret.txt",
      "/media/%2Fetc%2Fpasswd",
      `/media/${encodeURIComponent(path.join(work, "secret.txt"))}`,
    ];
    for (const attempt of attempts) {
      const res = await rawGet(origin, attempt);
      expect([attempt, res.status]).toEqual([attempt, 404]);
      expect(res.body).not.toContain("TOP SECRET");
    }
  });

  it("closes the file when the client goes away mid-download", async () => {
    const bigPath = publicStorage.path("big.bin");
    const { hostname, port } = new URL(origin);
    const gotFirstChunk = await new Promise<boolean>((resolve, reject) => {
      const req = request({ hostname, port, path: "/media/big.bin" }, (res) => {
        res.once("data", () => {
          req.destroy();
          resolve(true);
        });
      });
      req.on("error", (error) => ((error as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(error)));
      req.end();
    });
    expect(gotFirstChunk).toBe(true);
    let open = await descriptorsOn(bigPath);
    for (let i = 0; i < 100 && open > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      open = await descriptorsOn(bigPath);
    }
    expect(open).toBe(0);
    const after = await fetch(`${origin}/media/hello.txt`);
    expect(await after.text()).toBe("hello, world");
  });

  it("sends exactly Content-Length bytes of a file that grows while it is sent, never what was appended", async () => {
    await publicStorage.save("growing.log", Buffer.alloc(4 * 1024 * 1024, 97), { overwrite: true });
    const { hostname, port } = new URL(origin);
    // a raw socket: an HTTP client would stop at Content-Length and hide what follows on the connection
    const received = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect(Number(port), hostname);
      const parts: Buffer[] = [];
      let appended = false;
      socket.on("data", (chunk: Buffer) => {
        parts.push(chunk);
        if (!appended) {
          appended = true;
          appendFileSync(publicStorage.path("growing.log"), "HTTP/1.1 200 OK\r\nX-Injected: yes\r\n\r\n");
        }
      });
      socket.on("error", reject);
      socket.on("close", () => resolve(Buffer.concat(parts)));
      socket.write("GET /media/growing.log HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    });
    const headerEnd = received.indexOf("\r\n\r\n") + 4;
    const head = received.subarray(0, headerEnd).toString();
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head).toContain(`Content-Length: ${4 * 1024 * 1024}\r\n`);
    expect(received.length - headerEnd).toBe(4 * 1024 * 1024);
    expect(received.includes("X-Injected")).toBe(false);
  });

  it("cuts the connection, instead of ending the response short, for a file truncated while it is sent", async () => {
    await publicStorage.save("shrinking.bin", Buffer.alloc(4 * 1024 * 1024, 1), { overwrite: true });
    const { hostname, port } = new URL(origin);
    const agent = new Agent({ keepAlive: true });
    const started = Date.now();
    const outcome = await new Promise<{ complete: boolean; bytes: number }>((resolve, reject) => {
      const req = request({ hostname, port, path: "/media/shrinking.bin", agent }, (res) => {
        let bytes = 0;
        res.on("data", (chunk: Buffer) => {
          if (bytes === 0) truncateSync(publicStorage.path("shrinking.bin"), 100_000);
          bytes += chunk.length;
        });
        res.on("close", () => resolve({ complete: res.complete, bytes }));
      });
      req.on("error", (error) => ((error as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(error)));
      req.end();
    });
    agent.destroy();
    // a keep-alive client waited for the missing bytes until the server's idle timeout (5 s), or took
    // the next response on the connection for the rest of this one
    expect(outcome.complete).toBe(false);
    expect(outcome.bytes).toBeLessThan(4 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await descriptorsOn(publicStorage.path("shrinking.bin"))).toBe(0);
  });

  it("closes the file before answering HEAD, 304, 412 and 416", async () => {
    const bigPath = publicStorage.path("big.bin");
    const etag = (await publicStorage.stat("big.bin")).etag as string;
    const head = await fetch(`${origin}/media/big.bin`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await descriptorsOn(bigPath)).toBe(0);
    const notModified = await fetch(`${origin}/media/big.bin`, { headers: { "If-None-Match": etag } });
    expect(notModified.status).toBe(304);
    expect(await descriptorsOn(bigPath)).toBe(0);
    const unsatisfiable = await fetch(`${origin}/media/big.bin`, { headers: { Range: "bytes=999999999-" } });
    expect(unsatisfiable.status).toBe(416);
    await unsatisfiable.text();
    expect(await descriptorsOn(bigPath)).toBe(0);
    const failed = await fetch(`${origin}/media/big.bin`, { headers: { "If-Match": '"other"' } });
    expect(failed.status).toBe(412);
    await failed.text();
    expect(await descriptorsOn(bigPath)).toBe(0);
  });
});

describe("serveFiles on a storage with allowUnsafeInline", () => {
  it("serves svg inline", async () => {
    const origin = await plainServer(inlineStorage);
    const res = await fetch(`${origin}/inline/logo.svg`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toBeNull();
    expect(await res.text()).toBe("<svg/>");
  });
});

describe("serveFiles on a signed (querystringAuth) FileSystemStorage", () => {
  let origin: string;

  beforeAll(async () => {
    origin = await plainServer(privateStorage);
  });

  it("serves a signed URL privately, cached no longer than the signature lives", async () => {
    const res = await fetch(`${origin}${privateStorage.url("contract.pdf", { expiresIn: 600 })}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("%PDF-1.7 private");
    expect(res.headers.get("content-type")).toBe("application/pdf");
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(res.headers.get("cache-control") ?? "")?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(600);
  });

  it("caps the private max-age of a signed URL that lives centuries at ten years, as for public files", async () => {
    const res = await fetch(`${origin}${privateStorage.url("contract.pdf", { expiresIn: 500 * 365 * 24 * 3600 })}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe(`private, max-age=${10 * 365 * 24 * 3600}`);
  });

  it("answers HEAD and Range on a signed URL", async () => {
    const url = `${origin}${privateStorage.url("contract.pdf")}`;
    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("16");
    const range = await fetch(url, { headers: { Range: "bytes=0-7" } });
    expect(range.status).toBe(206);
    expect(await range.text()).toBe("%PDF-1.7");
  });

  it("refuses an unsigned request with 403", async () => {
    const res = await fetch(`${origin}/private/contract.pdf`);
    expect(res.status).toBe(403);
    expect(await res.text()).toBe("Forbidden: this file needs a signed URL.\n");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("refuses a tampered signature, another path, a changed or added parameter", async () => {
    const signed = privateStorage.url("contract.pdf", { contentType: "application/pdf" });
    const signature = new URL(signed, "http://x").searchParams.get("signature") as string;
    const attempts = [
      withParam(signed, "signature", (signature[0] === "A" ? "B" : "A") + signature.slice(1)),
      signed.replace("/private/contract.pdf", "/private/other.pdf"),
      withParam(signed, "expires", String(Math.floor(Date.now() / 1000) + 999_999)),
      withParam(signed, "response-content-type", "text/html"),
      withParam(signed, "response-content-disposition", "inline"),
      `${signed}&extra=1`,
    ];
    for (const attempt of attempts) {
      const res = await fetch(`${origin}${attempt}`);
      expect([attempt, res.status]).toEqual([attempt, 403]);
      expect(await res.text()).toBe("Forbidden: the URL's signature is invalid.\n");
    }
  });

  it("refuses an expired signature and says so", async () => {
    const hourAgo = new UrlSigner(SECRET, { now: () => Date.now() - 3_600_000 });
    const res = await fetch(`${origin}/private/contract.pdf?${hourAgo.sign("/private/contract.pdf", 60)}`);
    expect(res.status).toBe(403);
    expect(await res.text()).toBe("Forbidden: the signed URL has expired.\n");
  });

  it("refuses a signature made with another secret", async () => {
    const stranger = new UrlSigner("another-secret-of-thirty-two-byt");
    const res = await fetch(`${origin}/private/contract.pdf?${stranger.sign("/private/contract.pdf", 60)}`);
    expect(res.status).toBe(403);
    expect(await res.text()).toBe("Forbidden: the URL's signature is invalid.\n");
  });

  it("applies signed download and content-type overrides", async () => {
    const url = privateStorage.url("contract.pdf", { download: "Vertrag März.pdf", contentType: "application/x-pdf" });
    const res = await fetch(`${origin}${url}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-pdf");
    expect(res.headers.get("content-disposition")).toBe(
      "attachment; filename=\"Vertrag M_rz.pdf\"; filename*=UTF-8''Vertrag%20M%C3%A4rz.pdf",
    );
  });

  it("checks the path before the signature, so traversal never reaches the disk", async () => {
    const res = await rawGet(origin, "/private/..%2fmedia%2fhello.txt");
    expect(res.status).toBe(404);
  });
});

describe("serveFiles with signed overrides on a public storage", () => {
  it("honours a signed download name and still serves unsigned requests", async () => {
    const storage = new FileSystemStorage({
      location: path.join(work, "media"),
      signingSecret: SECRET,
    });
    const origin = await plainServer(storage);
    const res = await fetch(`${origin}${storage.url("hello.txt", { download: "greeting.txt" })}`);
    expect(res.headers.get("content-disposition")).toBe(
      "attachment; filename=\"greeting.txt\"; filename*=UTF-8''greeting.txt",
    );
    expect(res.headers.get("cache-control")).toMatch(/^private, max-age=\d+$/);
    const plain = await fetch(`${origin}/media/hello.txt`);
    expect(plain.status).toBe(200);
    const forged = await fetch(
      `${origin}/media/hello.txt?response-content-type=text/html&expires=9999999999&signature=x`,
    );
    expect(forged.status).toBe(403);
  });
});

describe("serveFiles with Express", () => {
  let origin: string;

  beforeAll(async () => {
    const app = express();
    app.use(serveFiles(privateStorage));
    app.use("/media", serveFiles(publicStorage));
    app.use((_req, res) => {
      res.status(418).send(NEXT_MARKER);
    });
    origin = await listen(app);
  });

  it("serves a storage mounted bare, matching its base URL against the full path", async () => {
    const res = await fetch(`${origin}${privateStorage.url("contract.pdf")}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("%PDF-1.7 private");
    expect((await fetch(`${origin}/private/contract.pdf`)).status).toBe(403);
  });

  it("serves a storage mounted under its path, through req.originalUrl", async () => {
    const res = await fetch(`${origin}/media/docs/${encodeURIComponent("ü b.txt")}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("unicode");
    const range = await fetch(`${origin}/media/hello.txt`, { headers: { Range: "bytes=0-4" } });
    expect(await range.text()).toBe("hello");
  });

  it("passes foreign paths on to the next middleware", async () => {
    const res = await fetch(`${origin}/elsewhere/hello.txt`);
    expect(res.status).toBe(418);
    expect(await res.text()).toBe(NEXT_MARKER);
  });

  it("keeps traversal inside the location behind Express too", async () => {
    const res = await rawGet(origin, "/media/..%2fsecret.txt");
    expect(res.status).toBe(404);
    expect(res.body).not.toContain("TOP SECRET");
  });
});

describe("serveFiles configuration", () => {
  it("refuses a storage that is not a FileSystemStorage", () => {
    expect(() => serveFiles(new InMemoryStorage() as never)).toThrow(StorageConfigError);
    expect(() => serveFiles(new InMemoryStorage() as never)).toThrow(
      "serveFiles() serves a FileSystemStorage; other storages serve their own URLs (S3, a CDN).",
    );
  });
});

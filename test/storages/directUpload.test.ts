import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { GetObjectTaggingCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import express from "express";
import { FileValidationError } from "../../src/errors/FileValidationError";
import { StorageConfigError } from "../../src/errors/StorageConfigError";
import { serveFiles } from "../../src/http/serveFiles";
import { FileSystemStorage } from "../../src/storage/FileSystemStorage";
import { InMemoryStorage } from "../../src/storage/InMemoryStorage";
import { S3Storage } from "../../src/storage/S3Storage";
import type { Storage } from "../../src/storage/Storage";
import { descriptorsOn } from "../support/openDescriptors";
import { createTestBucket, deleteTestBucket, makeS3Storage, rawClient, s3Env, strict } from "../support/s3";

const SECRET = "direct-upload-test-secret-32-bytes!";

/** PUTs `body` as a browser would: the returned headers, and the Content-Length of the body itself. */
function put(upload: { url: string; headers: Record<string, string> }, body: Buffer, drop: string[] = []) {
  const headers = Object.fromEntries(Object.entries(upload.headers).filter(([name]) => !drop.includes(name)));
  return fetch(upload.url, { method: "PUT", headers, body: new Uint8Array(body) });
}

interface Target {
  name: string;
  storage: Storage;
  /** Whether the stored content type is the one signed (disk serves the type the name gives). */
  storesType: boolean;
}

const servers: Server[] = [];
let work: string;
let bucket: string;
const targets: Target[] = [];

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "typeorm-storages-direct-"));
  // disk: the storage's baseUrl is the absolute origin of a serveFiles server
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const disk = new FileSystemStorage({ location: work, baseUrl: `${origin}/media/`, signingSecret: SECRET });
  const serve = serveFiles(disk);
  server.on("request", (req, res) => serve(req, res));
  bucket = await createTestBucket("direct-upload");
  const s3 = makeS3Storage(bucket, "default", { location: "media" });
  await s3.ready();
  targets.push(
    { name: "local disk through serveFiles", storage: disk, storesType: false },
    { name: strict ? "S3 (strict server)" : "S3 (s3rver)", storage: s3, storesType: true },
  );
});

afterAll(async () => {
  for (const server of servers) server.close();
  for (const target of targets) await target.storage.close();
  await deleteTestBucket(bucket);
  await rm(work, { recursive: true, force: true });
});

/**
 * Runs `body` on disk and on S3. With `enforced`, the S3 case needs a server that checks signatures and
 * conditional writes: on s3rver it is skipped, and its name says why.
 */
const each = (title: string, body: (target: Target) => Promise<void>, enforced = false) => {
  it(`${title} (disk)`, async () => body(targets[0]));
  if (enforced && !strict) it.skip(`${title} (S3: needs S3_STRICT=1, s3rver checks no signature)`, () => undefined);
  else it(`${title} (S3)`, async () => body(targets[1]));
};

describe("Storage.createUpload", () => {
  each("signs a PUT that stores exactly the bytes sent, under the key it chose", async ({ storage, storesType }) => {
    const body = Buffer.from("%PDF-1.7 direct upload");
    const upload = await storage.createUpload("docs/report.pdf", { size: body.length });
    expect(upload).toMatchObject({ key: "docs/report.pdf", method: "PUT", size: body.length });
    expect(upload.contentType).toBe("application/pdf");
    expect(upload.headers["content-type"] ?? upload.headers["Content-Type"]).toBe("application/pdf");
    expect(upload.expiresAt.getTime()).toBeGreaterThan(Date.now() + 590_000);
    expect(await storage.exists(upload.key)).toBe(false); // nothing is written by signing
    const response = await put(upload, body);
    expect(response.status).toBe(200);
    expect(await storage.read(upload.key)).toEqual(body);
    const stat = await storage.stat(upload.key);
    expect(stat.size).toBe(body.length);
    if (storesType) expect(stat.contentType).toBe("application/pdf");
  });

  each("chooses an alternative name when the name is taken, as save() does", async ({ storage }) => {
    await storage.save("docs/taken.txt", "first");
    const upload = await storage.createUpload("docs/taken.txt", { size: 3 });
    expect(upload.key).toMatch(/^docs\/taken_[A-Za-z0-9]{7}\.txt$/);
    expect((await put(upload, Buffer.from("new"))).status).toBe(200);
    expect((await storage.read("docs/taken.txt")).toString()).toBe("first");
    expect((await storage.read(upload.key)).toString()).toBe("new");
  });

  each("applies accept, maxSize and the size before signing anything", async ({ storage }) => {
    const refused = (promise: Promise<unknown>, rule: string) =>
      expect(promise).rejects.toMatchObject({ name: "FileValidationError", rule });
    await refused(storage.createUpload("a.exe", { size: 10, accept: ["image/*", ".pdf"] }), "accept");
    await refused(storage.createUpload("a.pdf", { size: 2_000_001, maxSize: 2_000_000 }), "maxSize");
    for (const size of [-1, 1.5, Number.NaN, "10" as unknown as number, undefined as unknown as number])
      await refused(storage.createUpload("a.pdf", { size }), "size");
    await expect(storage.createUpload("a.pdf", { size: 1, maxSize: -1 })).rejects.toBeInstanceOf(StorageConfigError);
    await expect(storage.createUpload("../a.pdf", { size: 1 })).rejects.toMatchObject({ name: "InvalidKeyError" });
  });

  it("refuses a content type that is not a header value (S3)", async () => {
    const { storage } = targets[1];
    await expect(storage.createUpload("a.txt", { size: 1, contentType: "text/plain\r\nx-evil: 1" })).rejects.toThrow(
      FileValidationError,
    );
  });

  each(
    'guesses the type from the name when none is declared, or "" (a browser\'s unknown type)',
    async ({ storage }) => {
      for (const contentType of [undefined, ""]) {
        const upload = await storage.createUpload("notes.md", { size: 1, contentType });
        expect(upload.contentType).toBe("text/markdown");
      }
    },
  );

  it("on disk, refuses a name longer than file systems take, before signing", async () => {
    await expect(targets[0].storage.createUpload(`${"漢".repeat(90)}.txt`, { size: 1 })).rejects.toMatchObject({
      name: "InvalidKeyError",
      message: expect.stringContaining("at most 255"),
    });
  });

  it("on disk, ignores the declared type: the file is served with the type its name gives", async () => {
    const { storage } = targets[0];
    const upload = await storage.createUpload("docs/page.html", { size: 5, contentType: "image/png" });
    expect(upload.contentType).toBe("text/html");
    await expect(
      storage.createUpload("docs/page.html", { size: 5, contentType: "image/png", accept: ["image/*"] }),
    ).rejects.toMatchObject({ rule: "accept" });
  });

  each(
    "refuses a body of another size than the one signed",
    async ({ storage }) => {
      const upload = await storage.createUpload("docs/sized.txt", { size: 10 });
      const response = await put(upload, Buffer.from("only 12 byte"));
      expect([400, 403]).toContain(response.status);
      expect(await storage.exists(upload.key)).toBe(false);
    },
    true,
  );

  each(
    "never replaces a file that took the name after signing",
    async ({ storage }) => {
      const upload = await storage.createUpload("docs/raced.txt", { size: 3 });
      await storage.save("docs/raced.txt", "won", { overwrite: true });
      const response = await put(upload, Buffer.from("new"));
      expect(response.status).toBe(412);
      expect((await storage.read("docs/raced.txt")).toString()).toBe("won");
    },
    true,
  );

  each("lets an overwriting upload replace the file", async ({ storage }) => {
    await storage.save("docs/replaced.txt", "old", { overwrite: true });
    const upload = await storage.createUpload("docs/replaced.txt", { size: 3, overwrite: true });
    expect(upload.key).toBe("docs/replaced.txt");
    expect(upload.headers["if-none-match"]).toBeUndefined();
    expect((await put(upload, Buffer.from("new"))).status).toBe(200);
    expect((await storage.read("docs/replaced.txt")).toString()).toBe("new");
  });

  each(
    "refuses the upload once the URL expired",
    async ({ storage }) => {
      const upload = await storage.createUpload("docs/late.txt", { size: 4, expiresIn: 1 });
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expect((await put(upload, Buffer.from("late"))).status).toBe(403);
      expect(await storage.exists(upload.key)).toBe(false);
    },
    true,
  );

  each("refuses a lifetime beyond 7 days, or under a second, before signing", async ({ storage }) => {
    for (const expiresIn of [0, 1.5, 7 * 24 * 3600 + 1])
      await expect(storage.createUpload("a.txt", { size: 1, expiresIn })).rejects.toThrow(RangeError);
    const week = await storage.createUpload("a.txt", { size: 1, expiresIn: 7 * 24 * 3600 });
    expect(week.expiresAt.getTime()).toBeGreaterThan(Date.now() + 7 * 24 * 3600_000 - 5000);
  });

  it("says when a disk URL expires, to the second it carries", async () => {
    const upload = await targets[0].storage.createUpload("a.txt", { size: 1, expiresIn: 90 });
    expect(upload.expiresAt.getTime()).toBe(Number(new URL(upload.url).searchParams.get("expires")) * 1000);
  });

  (strict ? it.skip : it)(
    "says when an S3 URL expires: no later than the temporary credentials it is signed with (s3rver: Ceph refuses a made-up session token)",
    async () => {
      const { endpoint, accessKey, secretKey } = s3Env();
      const expiration = new Date(Date.now() + 400_000);
      const client = new S3Client({
        endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: async () => ({
          accessKeyId: accessKey,
          secretAccessKey: secretKey,
          sessionToken: "T",
          expiration,
        }),
      });
      const storage = new S3Storage({ bucketName: bucket, client, endpointUrl: endpoint, addressingStyle: "path" });
      try {
        const upload = await storage.createUpload("temporary.txt", { size: 1, expiresIn: 3600 });
        const params = new URL(upload.url).searchParams;
        const lifetime = Number(params.get("X-Amz-Expires"));
        expect(lifetime).toBeLessThanOrEqual(400);
        expect(lifetime).toBeGreaterThan(390);
        expect(params.get("X-Amz-Security-Token")).toBe("T");
        const signedAt = (params.get("X-Amz-Date") as string).replace(
          /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/,
          "$1-$2-$3T$4:$5:$6Z",
        );
        expect(upload.expiresAt.getTime()).toBe(Date.parse(signedAt) + lifetime * 1000);
      } finally {
        await storage.close();
        client.destroy();
      }
    },
  );

  it("in memory, signs uploads that put() receives as S3 would, for tests", async () => {
    const memory = new InMemoryStorage();
    const upload = await memory.createUpload("docs/a.pdf", { size: 4 });
    expect(upload.url).toMatch(/^\/media\/docs\/a\.pdf\?upload=[0-9a-f]{32}$/);
    expect(upload.headers).toEqual({ "content-type": "application/pdf", "if-none-match": "*" });
    expect(await memory.put(upload.url, "five!", upload.headers)).toBe(400);
    // every header S3 would sign must be sent, as S3 insists
    expect(await memory.put(upload.url, "%PDF", { "Content-Type": "application/pdf" })).toBe(403);
    expect(await memory.put(upload.url, "%PDF", { "Content-Type": "text/html" })).toBe(403);
    expect(await memory.put(upload.url.replace("a.pdf", "b.pdf"), "%PDF", upload.headers)).toBe(403);
    expect(await memory.put(upload.url, "%PDF", upload.headers)).toBe(200);
    expect(await memory.stat("docs/a.pdf")).toMatchObject({ size: 4, contentType: "application/pdf" });
    expect(await memory.put(upload.url, "%PDF", upload.headers)).toBe(412); // If-None-Match, as signed
    const late = await memory.createUpload("docs/late.txt", { size: 1, expiresIn: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await memory.put(late.url, "x", late.headers)).toBe(403);
    expect(await memory.exists("docs/late.txt")).toBe(false);
    const svg = await memory.createUpload("page.svg", { size: 6 });
    expect(svg.headers["content-disposition"]).toBe("attachment");
    expect(await memory.put(svg.url, "<svg/>", { ...svg.headers, "content-disposition": "inline" })).toBe(403);
    expect(await memory.put(svg.url, "<svg/>", svg.headers)).toBe(200);
  });

  it("refuses a disk storage without a signing secret", async () => {
    const unsigned = new FileSystemStorage({ location: work });
    await expect(unsigned.createUpload("a.txt", { size: 1 })).rejects.toThrow(/signingSecret.*serveFiles/);
    await expect(unsigned.createUpload("a.txt", { size: 1 })).rejects.toBeInstanceOf(StorageConfigError);
  });
});

describe("serveFiles and direct uploads", () => {
  const disk = () => targets[0].storage as FileSystemStorage;

  it("answers a GET of an upload URL and a PUT of a download URL with 403", async () => {
    const upload = await disk().createUpload("docs/guarded.txt", { size: 2 });
    expect((await fetch(upload.url)).status).toBe(403);
    await disk().save("docs/readable.txt", "hi");
    const signed = disk().url("docs/readable.txt", { download: "r.txt" });
    const response = await fetch(signed, { method: "PUT", body: "xx" });
    expect(response.status).toBe(403);
    expect((await disk().read("docs/readable.txt")).toString()).toBe("hi");
    const unsigned = await fetch(disk().url("docs/new.txt"), { method: "PUT", body: "xx" });
    expect(unsigned.status).toBe(403);
    expect(await disk().exists("docs/new.txt")).toBe(false);
  });

  it("refuses an upload URL moved to another key", async () => {
    const upload = await disk().createUpload("docs/mine.txt", { size: 2 });
    const moved = { ...upload, url: upload.url.replace("mine.txt", "yours.txt") };
    expect((await put(moved, Buffer.from("xx"))).status).toBe(403);
    expect(await disk().exists("docs/yours.txt")).toBe(false);
  });

  it("keeps nothing of an upload the client abandons half-way", async () => {
    const upload = await disk().createUpload("docs/half.bin", { size: 1_000_000 });
    const { request } = await import("node:http");
    const target = new URL(upload.url);
    await new Promise<void>((resolve) => {
      const req = request(
        { hostname: target.hostname, port: target.port, path: target.pathname + target.search, method: "PUT" },
        () => resolve(),
      );
      req.setHeader("Content-Length", "1000000");
      req.on("error", () => resolve());
      req.write(Buffer.alloc(100_000));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await disk().exists("docs/half.bin")).toBe(false);
    const { readdir } = await import("node:fs/promises");
    expect((await readdir(path.join(work, "docs"))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  describe("when the client hangs up while serveFiles checks the name, before it reads the body", () => {
    let slow: FileSystemStorage;
    const writes: Promise<unknown>[] = [];

    beforeAll(async () => {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      slow = new FileSystemStorage({
        location: path.join(work, "slow"),
        baseUrl: `${origin}/media/`,
        signingSecret: SECRET,
      });
      const serve = serveFiles(slow);
      server.on("request", (req, res) => serve(req, res));
      await slow.save("docs/keep.txt", "x");
      // a slow disk: the existence check takes 300 ms, time enough for the client to go
      const driver = slow.driver;
      const stat = driver.stat.bind(driver);
      driver.stat = async (key) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return stat(key);
      };
      const write = driver.write.bind(driver);
      driver.write = (...args) => {
        const written = write(...args);
        writes.push(written.catch(() => undefined));
        return written;
      };
    });

    /** PUTs `sent` of the `size` bytes the upload URL takes, hangs up `after` ms later, and waits out the check. */
    async function putAndHangUp(name: string, size: number, sent: number, after: number): Promise<void> {
      const upload = await slow.createUpload(name, { size });
      const target = new URL(upload.url);
      const { request } = await import("node:http");
      await new Promise<void>((resolve) => {
        const req = request({
          hostname: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method: "PUT",
          headers: { "Content-Length": String(size) },
        });
        req.on("error", () => resolve());
        req.write(Buffer.alloc(sent), () =>
          setTimeout(() => {
            req.destroy();
            resolve();
          }, after),
        );
      });
      await new Promise((resolve) => setTimeout(resolve, 600));
    }

    /** Temp files in `docs/`, and descriptors still open on one (Linux; elsewhere none are counted). */
    async function leftovers(): Promise<{ files: string[]; descriptors: number }> {
      const { readdir } = await import("node:fs/promises");
      const dir = path.join(work, "slow", "docs");
      const files = (await readdir(dir)).filter((f) => f.endsWith(".tmp"));
      return { files, descriptors: await descriptorsOn((l) => l.startsWith(dir) && l.includes(".tmp")) };
    }

    it("keeps no temp file or descriptor of a body cut off half-way, and the write settles", async () => {
      await putAndHangUp("docs/early.bin", 1_000_000, 1000, 0);
      expect(await leftovers()).toEqual({ files: [], descriptors: 0 });
      await Promise.all(writes); // none waits forever on a request that will never end
      expect(await slow.exists("docs/early.bin")).toBe(false);
    });

    it("refuses a body that had fully arrived: nobody is left to tell the upload succeeded", async () => {
      await putAndHangUp("docs/full.bin", 1000, 1000, 50);
      expect(await leftovers()).toEqual({ files: [], descriptors: 0 });
      await Promise.all(writes);
      expect(await slow.exists("docs/full.bin")).toBe(false);
    });
  });
});

describe("serveFiles direct uploads behind a body parser", () => {
  it("hands a StorageConfigError to the app when a middleware mounted before it read the body", async () => {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const storage = new FileSystemStorage({
      location: path.join(work, "parsed"),
      baseUrl: `${origin}/media/`,
      signingSecret: SECRET,
    });
    const errors: unknown[] = [];
    const app = express();
    app.use(express.json()); // a JSON file's upload is a PUT with Content-Type: application/json
    app.use(serveFiles(storage));
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      errors.push(error);
      res.status(500).send("failed");
    });
    server.on("request", app);
    const upload = await storage.createUpload("data.json", { size: 9, contentType: "application/json" });
    // the connection used to be dropped without an answer, and nothing said why
    const response = await put(upload, Buffer.from('{"a": 1}\n'));
    expect([response.status, await response.text()]).toEqual([500, "failed"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StorageConfigError);
    expect((errors[0] as Error).message).toMatch(/already read.*mount serveFiles\(\) before/);
    expect(await storage.exists("data.json")).toBe(false);
  });
});

describe("direct uploads to S3 carry the storage's settings", () => {
  it("signs the ACL, cache, metadata and disposition, and the server stores them", async () => {
    const storage = makeS3Storage(bucket, "default", {
      location: "settings",
      defaultAcl: "public-read",
      maxAgeSeconds: 300,
      metadata: { origin: "direct" },
      querystringAuth: false,
    });
    try {
      const upload = await storage.createUpload("page.svg", { size: 6 });
      expect(upload.headers).toMatchObject({
        "x-amz-acl": "public-read",
        "cache-control": "public, max-age=300",
        "x-amz-meta-origin": "direct",
        "content-type": "image/svg+xml",
        "content-disposition": "attachment",
        "if-none-match": "*",
      });
      expect((await put(upload, Buffer.from("<svg/>"))).status).toBe(200);
      const raw = rawClient();
      const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: `settings/${upload.key}` }));
      raw.destroy();
      expect(head).toMatchObject({
        CacheControl: "public, max-age=300",
        ContentType: "image/svg+xml",
        ContentDisposition: "attachment",
        Metadata: { origin: "direct" },
      });
      if (strict) {
        // anonymous read works because the ACL was applied
        expect((await fetch(storage.url(upload.key))).status).toBe(200);
        // the uploader cannot drop a signed header
        const again = await storage.createUpload("page2.svg", { size: 6 });
        expect((await put(again, Buffer.from("<svg/>"), ["x-amz-acl"])).status).toBe(403);
      }
    } finally {
      await storage.close();
    }
  });

  it("signs an Expires given as a date string, as AWS_S3_OBJECT_PARAMETERS gives it, and the object gets it", async () => {
    const storage = makeS3Storage(bucket, "default", {
      location: "expires",
      objectParameters: { Expires: "Sun, 01 Dec 2030 16:00:00 GMT" } as never,
    });
    try {
      const upload = await storage.createUpload("a.txt", { size: 1 });
      expect(upload.headers.expires).toBe("Sun, 01 Dec 2030 16:00:00 GMT");
      expect((await put(upload, Buffer.from("a"))).status).toBe(200);
      const head = await rawClient().send(new HeadObjectCommand({ Bucket: bucket, Key: `expires/${upload.key}` }));
      expect(head.ExpiresString).toBe("Sun, 01 Dec 2030 16:00:00 GMT");
    } finally {
      await storage.close();
    }
  });

  (strict ? it : it.skip)(
    "tags uploads with pendingUploadTag until confirmUpload puts the storage's own tags back (strict: s3rver keeps no tags of a PUT)",
    async () => {
      const raw = rawClient();
      const tagsOf = async (key: string) =>
        ((await raw.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }))).TagSet ?? [])
          .map((t) => `${t.Key}=${t.Value}`)
          .sort();
      const tagged = makeS3Storage(bucket, "default", {
        location: "pending",
        pendingUploadTag: "upload=pending",
        objectParameters: { Tagging: "team=web" },
      });
      const bare = makeS3Storage(bucket, "default", { location: "pending-bare", pendingUploadTag: "upload=pending" });
      try {
        const upload = await tagged.createUpload("a.txt", { size: 1 });
        expect(upload.headers["x-amz-tagging"]).toBe("team=web&upload=pending");
        expect((await put(upload, Buffer.from("a"))).status).toBe(200);
        expect(await tagsOf(`pending/${upload.key}`)).toEqual(["team=web", "upload=pending"]);
        await tagged.confirmUpload(upload.key);
        expect(await tagsOf(`pending/${upload.key}`)).toEqual(["team=web"]);
        const plain = await bare.createUpload("b.txt", { size: 1 });
        expect((await put(plain, Buffer.from("b"))).status).toBe(200);
        expect(await tagsOf(`pending-bare/${plain.key}`)).toEqual(["upload=pending"]);
        await bare.confirmUpload(plain.key);
        expect(await tagsOf(`pending-bare/${plain.key}`)).toEqual([]);
        // save() never tags: only direct uploads wait to be attached
        await bare.save("c.txt", "c");
        expect(await tagsOf("pending-bare/c.txt")).toEqual([]);
        expect(() => makeS3Storage(bucket, "default", { pendingUploadTag: "no-value-separator" })).toThrow(
          /pendingUploadTag must be one tag as key=value/,
        );
        expect(() =>
          makeS3Storage(bucket, "default", { pendingUploadTag: "team=x", objectParameters: { Tagging: "team=web" } }),
        ).toThrow(/uses a key objectParameters.Tagging sets/);
        // a "+" in the storage's own tags stays a "+" (S3 reads x-amz-tagging so)
        const plus = makeS3Storage(bucket, "default", {
          location: "pending-plus",
          pendingUploadTag: "upload=pending",
          objectParameters: { Tagging: "team=r+d" },
        });
        try {
          const up = await plus.createUpload("p.txt", { size: 1 });
          expect((await put(up, Buffer.from("p"))).status).toBe(200);
          await plus.confirmUpload(up.key);
          expect(await tagsOf(`pending-plus/${up.key}`)).toEqual(["team=r+d"]);
        } finally {
          await plus.close();
        }
      } finally {
        raw.destroy();
        await tagged.close();
        await bare.close();
      }
    },
  );

  it("refuses a storage with a customer-provided key: it would be handed to the browser", async () => {
    const storage = makeS3Storage(bucket, "default", {
      objectParameters: { SSECustomerAlgorithm: "AES256", SSECustomerKey: "k".repeat(32) },
    });
    try {
      await expect(storage.createUpload("a.txt", { size: 1 })).rejects.toThrow(/SSE-C.*save\(\)/);
    } finally {
      await storage.close();
    }
  });
});

describe("serveFiles direct uploads that cannot be written", () => {
  const disk = () => targets[0].storage as FileSystemStorage;

  it("answers 409 when a file stands where the key needs a directory, and 412 at once for a taken name", async () => {
    await disk().save("blocked", "a file, not a directory");
    for (const size of [10, 1_000_000]) {
      const upload = await disk().createUpload(`blocked/inner-${size}.bin`, { size });
      const response = await put(upload, Buffer.alloc(size));
      expect(response.status).toBe(409);
      expect(await response.text()).toContain("Conflict");
    }
    const upload = await disk().createUpload("docs/early.txt", { size: 3 });
    await disk().save("docs/early.txt", "won", { overwrite: true });
    expect((await put(upload, Buffer.from("new"))).status).toBe(412);
  });
});

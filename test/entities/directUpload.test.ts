import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { GetObjectTaggingCommand } from "@aws-sdk/client-s3";
import type { DataSource } from "typeorm";
import {
  FieldFile,
  FileFieldSubscriber,
  FileSystemStorage,
  type FileValidationError,
  type S3Storage,
  StorageConfigError,
  serveFiles,
  storages,
  verifyUploadTicket,
} from "../../src";
import { DB, openDataSource } from "../support/dataSource";
import { createTestBucket, deleteTestBucket, makeS3Storage, rawClient, s3Env, strict } from "../support/s3";
import { Avatar, Document } from "./entities";

const SECRET = "entity-direct-upload-secret-32-bytes";

let ds: DataSource;
let work: string;
let server: Server;
let media: FileSystemStorage;
let secret: FileSystemStorage;

/** The browser's part: PUT the bytes to the signed URL with the signed headers. */
async function upload(request: { url: string; headers: Record<string, string> }, body: string): Promise<number> {
  const response = await fetch(request.url, { method: "PUT", headers: request.headers, body });
  return response.status;
}

const docs = () => ds.getRepository(Document);
const refusal = (rule: string) => expect.objectContaining({ name: "FileValidationError", rule });

beforeAll(async () => {
  ds = await openDataSource([Document, Avatar], [FileFieldSubscriber]);
  work = await mkdtemp(path.join(tmpdir(), "typeorm-storages-attach-"));
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  media = new FileSystemStorage({
    location: path.join(work, "media"),
    baseUrl: `${origin}/media/`,
    signingSecret: SECRET,
  });
  secret = new FileSystemStorage({
    location: path.join(work, "private"),
    baseUrl: `${origin}/private/`,
    querystringAuth: true,
    signingSecret: SECRET,
  });
  const handlers = [serveFiles(media), serveFiles(secret)];
  server.on("request", (req, res) => handlers[0](req, res, () => handlers[1](req, res)));
});

beforeEach(() => {
  storages.configure({ default: media, private: secret }, { signingSecret: SECRET });
});

afterAll(async () => {
  await ds?.destroy();
  server?.close();
  await rm(work, { recursive: true, force: true });
});

describe(`direct uploads into file fields on ${DB}`, () => {
  it("signs an upload under the field's uploadTo, then attaches it and saves the row", async () => {
    const doc = Object.assign(new Document(), { title: "direct", ownerId: 7 });
    const request = await doc.attachment.createUpload("Quarterly Report.pdf", { size: 11 });
    expect(request.key).toMatch(/^documents\/\d{4}\/\d{2}\/Quarterly_Report_[A-Za-z0-9]{16}\.pdf$/);
    expect(request.ticket).toMatch(/^ut1\./);
    // what the ticket vouches for, for the row's other columns
    expect(verifyUploadTicket(request.ticket)).toMatchObject({
      field: "Document.attachment",
      storage: "default",
      key: request.key,
      size: 11,
      contentType: "application/pdf",
    });
    expect(() => verifyUploadTicket(`${request.ticket}x`)).toThrow(
      expect.objectContaining({ rule: "ticket", message: expect.stringMatching(/not issued by this server/) }),
    );
    expect(doc.attachment.isEmpty).toBe(true); // nothing changes until the file is attached
    expect(await upload(request, "hello world")).toBe(200);
    await expect(doc.attachment.attachUpload(request.ticket)).resolves.toBe(request.key);
    const loaded = await docs().findOneByOrFail({ id: doc.id });
    expect(loaded.attachment.name).toBe(request.key);
    expect((await loaded.attachment.read()).toString()).toBe("hello world");
  });

  it("builds a private field's key from the entity and serves the file only through a signed URL", async () => {
    const doc = Object.assign(new Document(), { ownerId: 42 });
    const request = await doc.contract.createUpload("nda.pdf", { size: 3, contentType: "application/pdf" });
    expect(request.key).toMatch(/^users\/42\/nda_[A-Za-z0-9]{16}\.pdf$/);
    expect(request.url).toContain(`/private/${request.key}?`);
    expect(await upload(request, "NDA")).toBe(200);
    await doc.contract.attachUpload(request.ticket);
    expect((await fetch(secret.url(request.key).split("?")[0])).status).toBe(403);
    expect(await (await fetch(doc.contract.url)).text()).toBe("NDA");
  });

  it("signs no upload into, and attaches none from, a private field's storage that became public", async () => {
    const doc = Object.assign(new Document(), { ownerId: 42 });
    const request = await doc.contract.createUpload("nda.pdf", { size: 3, contentType: "application/pdf" });
    expect(await upload(request, "NDA")).toBe(200);
    // "private" reconfigured to the public media storage: a PUT there is a file anyone reads unsigned
    storages.configure({ default: media, private: media }, { signingSecret: SECRET });
    const refused = /^Document\.contract is private, but storage "default" builds public URLs/;
    await expect(doc.contract.createUpload("nda.pdf", { size: 3 })).rejects.toThrow(refused);
    await expect(doc.contract.createMultipartUpload("nda.pdf", { size: 3 })).rejects.toThrow(refused);
    await expect(doc.contract.signUploadParts(request.ticket)).rejects.toThrow(refused);
    await expect(doc.contract.attachUpload(request.ticket)).rejects.toBeInstanceOf(StorageConfigError);
    expect(doc.contract.isEmpty).toBe(true);
    expect(await media.exists(request.key)).toBe(false);
  });

  it("refuses a ticket made for another field, a forged one, and one from another secret", async () => {
    const doc = Object.assign(new Document(), { ownerId: 1 });
    const request = await doc.attachment.createUpload("a.txt", { size: 1 });
    expect(await upload(request, "a")).toBe(200);
    await expect(doc.contract.attachUpload(request.ticket)).rejects.toEqual(refusal("ticket"));
    await expect(doc.contract.attachUpload(request.ticket)).rejects.toThrow(/ticket is for Document\.attachment/);
    const avatar = new Avatar();
    await expect(avatar.trustedSvg.attachUpload(request.ticket)).rejects.toEqual(refusal("ticket"));
    const [prefix, , mac] = request.ticket.split(".");
    const forged = Buffer.from(
      JSON.stringify([
        "Document.contract",
        "private",
        "users/2/secret.pdf",
        1,
        "application/pdf",
        null,
        null,
        null,
        9e9,
      ]),
    ).toString("base64url");
    await expect(doc.contract.attachUpload(`${prefix}.${forged}.${mac}`)).rejects.toEqual(refusal("ticket"));
    storages.configure({ default: media, private: secret }, { signingSecret: `${SECRET}-rotated` });
    await expect(doc.attachment.attachUpload(request.ticket)).rejects.toEqual(refusal("ticket"));
    expect(doc.attachment.isEmpty).toBe(true);
    expect(doc.contract.isEmpty).toBe(true);
    expect(await media.exists(request.key)).toBe(true); // a refused ticket touches no file
  });

  it("refuses to attach before the file arrived, and deletes a file that is not the one announced", async () => {
    const doc = Object.assign(new Document(), { ownerId: 1 });
    const request = await doc.attachment.createUpload("b.txt", { size: 5 });
    await expect(doc.attachment.attachUpload(request.ticket)).rejects.toEqual(refusal("upload"));
    // written behind the URL's back (as on a server that checks no signature), with another size
    await media.save(request.key, "not five bytes", { overwrite: true });
    const error = (await doc.attachment.attachUpload(request.ticket).catch((e) => e)) as FileValidationError;
    expect(error).toEqual(refusal("upload"));
    expect(error.message).toMatch(/14 bytes.*5 bytes.*deleted/);
    expect(await media.exists(request.key)).toBe(false);
    expect(doc.attachment.isEmpty).toBe(true);
    expect(doc.id).toBeUndefined(); // no row was written
  });

  it("gives the upload a name no other save or upload takes, so a file saved meanwhile is never attached or deleted", async () => {
    const holder = Object.assign(new Document(), { ownerId: 666 });
    const tickets = await Promise.all([5, 6].map((size) => holder.attachment.createUpload("invoice.pdf", { size })));
    const victim = Object.assign(new Document(), { ownerId: 1 });
    await victim.attachment.save("invoice.pdf", "SECRET");
    expect(tickets.map((t) => t.key)).not.toContain(victim.attachment.name);
    for (const { ticket } of tickets)
      await expect(holder.attachment.attachUpload(ticket)).rejects.toEqual(refusal("upload"));
    expect((await victim.attachment.read()).toString()).toBe("SECRET");
    expect(holder.attachment.isEmpty).toBe(true);
  });

  it("attaches a ticket to one row only: a second row is refused, even in a transaction that rolls back", async () => {
    const first = Object.assign(new Document(), { ownerId: 1 });
    const request = await first.attachment.createUpload("shared.txt", { size: 6 });
    expect(await upload(request, "shared")).toBe(200);
    await first.attachment.attachUpload(request.ticket);
    const second = Object.assign(new Document(), { ownerId: 2 });
    await expect(second.attachment.attachUpload(request.ticket)).rejects.toEqual(refusal("ticket"));
    await expect(
      ds.transaction(async (em) => {
        await second.attachment.attachUpload(request.ticket, { manager: em });
        throw new Error("boom");
      }),
    ).rejects.toEqual(refusal("ticket"));
    await expect(second.attachment.attachUpload(request.ticket, { save: false })).rejects.toThrow(
      /attached to another row already/,
    );
    expect(await media.exists(request.key)).toBe(true);
    expect((await docs().findOneByOrFail({ id: first.id })).attachment.name).toBe(request.key);
    // attaching again to the row that holds it only saves the row, and keeps the file if that fails
    first.title = "again";
    await expect(first.attachment.attachUpload(request.ticket)).resolves.toBe(request.key);
    await expect(
      ds.transaction(async (em) => {
        await first.attachment.attachUpload(request.ticket, { manager: em });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await media.exists(request.key)).toBe(true);
  });

  it("refuses a second row while the first holds the ticket's file unsaved, or attaches at the same time", async () => {
    const first = Object.assign(new Document(), { ownerId: 1 });
    const request = await first.attachment.createUpload("pending.txt", { size: 7 });
    expect(await upload(request, "pending")).toBe(200);
    await first.attachment.attachUpload(request.ticket, { save: false }); // not in the database yet
    const second = Object.assign(new Document(), { ownerId: 2 });
    await expect(second.attachment.attachUpload(request.ticket)).rejects.toThrow(/being attached to another row/);
    await docs().save(first);
    expect((await docs().findOneByOrFail({ id: first.id })).attachment.name).toBe(request.key);

    const next = await new Document().attachment.createUpload("race.txt", { size: 4 });
    expect(await upload(next, "race")).toBe(200);
    const rows = [1, 2].map((ownerId) => Object.assign(new Document(), { ownerId }));
    const results = await Promise.allSettled(rows.map((row) => row.attachment.attachUpload(next.ticket)));
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(await media.exists(next.key)).toBe(true);
  });

  it("drops an upload given up, but never one a row holds", async () => {
    const doc = Object.assign(new Document(), { ownerId: 1 });
    const request = await doc.attachment.createUpload("dropped.txt", { size: 4 });
    expect(await upload(request, "drop")).toBe(200);
    await doc.attachment.abortUpload(request.ticket);
    expect(await media.exists(request.key)).toBe(false);
    const kept = await doc.attachment.createUpload("kept.txt", { size: 4 });
    expect(await upload(kept, "kept")).toBe(200);
    await doc.attachment.attachUpload(kept.ticket);
    await expect(new Document().attachment.abortUpload(kept.ticket)).rejects.toEqual(refusal("ticket"));
    await expect(doc.contract.abortUpload(kept.ticket)).rejects.toThrow(/ticket is for Document\.attachment/);
    expect(await media.exists(kept.key)).toBe(true);
  });

  it("replaces the previous file, which is deleted after commit", async () => {
    const doc = Object.assign(new Document(), { ownerId: 1 });
    await doc.attachment.save("old.txt", "old");
    const oldKey = doc.attachment.name as string;
    const request = await doc.attachment.createUpload("new.txt", { size: 3 });
    expect(await upload(request, "new")).toBe(200);
    await doc.attachment.attachUpload(request.ticket);
    expect(await media.exists(oldKey)).toBe(false);
    expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBe(request.key);
  });

  it("restores the field when the transaction rolls back, and keeps the file for its ticket to be attached again", async () => {
    const doc = Object.assign(new Document(), { ownerId: 1 });
    await doc.attachment.save("kept.txt", "kept");
    const oldKey = doc.attachment.name as string;
    const request = await doc.attachment.createUpload("rolled.txt", { size: 6 });
    expect(await upload(request, "rolled")).toBe(200);
    await expect(
      ds.transaction(async (em) => {
        await doc.attachment.attachUpload(request.ticket, { manager: em });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await media.exists(request.key)).toBe(true); // a large upload is not lost to a failed request
    expect(await media.exists(oldKey)).toBe(true);
    expect(doc.attachment.name).toBe(oldKey);
    // a failed save keeps it too
    const save = jest.spyOn(ds.manager, "save").mockRejectedValueOnce(new Error("database down"));
    try {
      await expect(doc.attachment.attachUpload(request.ticket, { manager: ds.manager })).rejects.toThrow(
        "database down",
      );
    } finally {
      save.mockRestore();
    }
    expect(await media.exists(request.key)).toBe(true);
    expect(doc.attachment.name).toBe(oldKey);
    await doc.attachment.attachUpload(request.ticket);
    expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBe(request.key);
    expect(await media.exists(oldKey)).toBe(false); // replaced, after the commit
  });

  it("attaches again through another instance of the row that holds the file, as a retry", async () => {
    const doc = Object.assign(new Document(), { ownerId: 1 });
    await doc.attachment.save("before.txt", "before");
    const stale = await docs().findOneByOrFail({ id: doc.id }); // loaded before the attach
    const request = await doc.attachment.createUpload("after.txt", { size: 5 });
    expect(await upload(request, "after")).toBe(200);
    await doc.attachment.attachUpload(request.ticket);
    await expect(stale.attachment.attachUpload(request.ticket)).resolves.toBe(request.key);
    expect((await docs().findOneByOrFail({ id: doc.id })).attachment.name).toBe(request.key);
    expect(await media.exists(request.key)).toBe(true);
  });

  it("never deletes a file a row in your transaction may hold when save() fails inside it", async () => {
    const exploding = {
      listenTo: () => Document,
      afterInsert: (event: { entity?: { title?: string } }) => {
        if (event.entity?.title === "explode") throw new Error("a later subscriber failed");
      },
    };
    ds.subscribers.push(exploding as never);
    try {
      const doc = Object.assign(new Document(), { title: "explode", ownerId: 1 });
      let key: string | null = null;
      await ds
        .transaction(async (em) => {
          await doc.attachment.save("x.txt", "x", { manager: em }).catch((error: Error) => {
            expect(error.message).toBe("a later subscriber failed");
          });
        })
        .catch(() => undefined); // PostgreSQL refuses to commit a failed transaction
      const rows = await docs().findBy({ title: "explode" });
      for (const row of rows) {
        key = row.attachment.name;
        if (key !== null) expect(await media.exists(key)).toBe(true);
      }
    } finally {
      ds.subscribers.splice(ds.subscribers.indexOf(exploding as never), 1);
    }
  });

  it("refuses to drop a ticket's file while it is being attached", async () => {
    const doc = Object.assign(new Document(), { ownerId: 1 });
    const request = await doc.attachment.createUpload("busy.txt", { size: 4 });
    expect(await upload(request, "busy")).toBe(200);
    const attaching = doc.attachment.attachUpload(request.ticket);
    await expect(new Document().attachment.abortUpload(request.ticket)).rejects.toEqual(refusal("ticket"));
    await expect(attaching).resolves.toBe(request.key);
    expect(await media.exists(request.key)).toBe(true);
  });

  it("applies the field's limits and key length to the declared file", async () => {
    const avatar = new Avatar();
    const request = await avatar.image.createUpload(`${"long".repeat(20)}.png`, { size: 4 });
    expect(request.key.length).toBeLessThanOrEqual(40);
    expect(await upload(request, "png!")).toBe(200);
    await avatar.image.attachUpload(request.ticket);
    expect((await ds.getRepository(Avatar).findOneByOrFail({ id: avatar.id })).image.name).toBe(request.key);
  });

  it("works on storages.fake(), whose put() plays the browser, for an app's own tests", async () => {
    const fake = storages.fake("default");
    try {
      const doc = Object.assign(new Document(), { ownerId: 5 });
      const request = await doc.attachment.createUpload("notes.txt", { size: 5 });
      expect(await fake.put(request.url, "notes", request.headers)).toBe(200);
      await doc.attachment.attachUpload(request.ticket);
      expect((await (await docs().findOneByOrFail({ id: doc.id })).attachment.read()).toString()).toBe("notes");
    } finally {
      storages.restore("default");
    }
  });

  it("needs a field read from an entity, and a signing secret in production", async () => {
    await expect(new FieldFile(null, media).createUpload("a.txt", { size: 1 })).rejects.toThrow(
      /needs a FieldFile read from an entity property/,
    );
    await expect(new FieldFile("a.txt", media).attachUpload("ut1.x.y")).rejects.toBeInstanceOf(StorageConfigError);
    const doc = new Document();
    const original = process.env.NODE_ENV;
    const envSecret = process.env.STORAGES_SIGNING_SECRET;
    try {
      storages.configure({ default: media, private: secret });
      delete process.env.STORAGES_SIGNING_SECRET;
      process.env.NODE_ENV = "production";
      await expect(doc.attachment.createUpload("a.txt", { size: 1 })).rejects.toThrow(/STORAGES_SIGNING_SECRET/);
      await expect(doc.attachment.createUpload("a.txt", { size: 1 })).rejects.toBeInstanceOf(StorageConfigError);
      process.env.STORAGES_SIGNING_SECRET = SECRET;
      const request = await doc.attachment.createUpload("a.txt", { size: 1 });
      storages.configure({ default: media, private: secret }, { signingSecret: SECRET });
      // the same secret from the environment and from configure(): the ticket still reads
      expect(await upload(request, "a")).toBe(200);
      await expect(doc.attachment.attachUpload(request.ticket, { save: false })).resolves.toBe(request.key);
    } finally {
      process.env.NODE_ENV = original;
      if (envSecret === undefined) delete process.env.STORAGES_SIGNING_SECRET;
      else process.env.STORAGES_SIGNING_SECRET = envSecret;
    }
    expect(() => storages.configure({}, { signingSecret: "short" })).toThrow(/at least 32 bytes/);
  });
});

describe(`direct uploads into file fields on S3 and ${DB}`, () => {
  let bucket: string;
  let s3: S3Storage;

  beforeAll(async () => {
    bucket = await createTestBucket("attach");
    s3 = makeS3Storage(bucket, "default", { location: "media", querystringAuth: false });
    await s3.ready();
  });
  beforeEach(() => {
    storages.configure({ default: s3, private: secret }, { signingSecret: SECRET });
  });
  afterAll(async () => {
    await s3.close();
    await deleteTestBucket(bucket);
  });

  it("attaches a file the browser sent to the bucket", async () => {
    const doc = Object.assign(new Document(), { ownerId: 3 });
    const request = await doc.attachment.createUpload("photo.png", { size: 4, contentType: "image/png" });
    expect(request.url.startsWith(s3Env().endpoint)).toBe(true);
    expect(await upload(request, "PNG!")).toBe(200);
    await doc.attachment.attachUpload(request.ticket);
    const loaded = await docs().findOneByOrFail({ id: doc.id });
    expect(await loaded.attachment.stat()).toMatchObject({ size: 4, contentType: "image/png" });
  });

  (strict ? it : it.skip)(
    "removes the pending tag when it attaches the file, so the lifecycle rule spares it (strict: s3rver keeps no tags of a PUT)",
    async () => {
      const tagged = makeS3Storage(bucket, "default", { location: "tagged", pendingUploadTag: "upload=pending" });
      storages.configure({ default: tagged, private: secret }, { signingSecret: SECRET });
      const raw = rawClient();
      try {
        const doc = new Document();
        const request = await doc.attachment.createUpload("kept.txt", { size: 4 });
        expect(await upload(request, "kept")).toBe(200);
        const tags = async () =>
          (await raw.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: `tagged/${request.key}` }))).TagSet ?? [];
        expect(await tags()).toEqual([{ Key: "upload", Value: "pending" }]);
        // a row that does not commit puts the tag back: the lifecycle rule may expire it after all
        await expect(
          ds.transaction(async (em) => {
            await doc.attachment.attachUpload(request.ticket, { manager: em });
            expect(await tags()).toEqual([]);
            throw new Error("boom");
          }),
        ).rejects.toThrow("boom");
        expect(await tags()).toEqual([{ Key: "upload", Value: "pending" }]);
        await doc.attachment.attachUpload(request.ticket);
        expect(await tags()).toEqual([]);
      } finally {
        raw.destroy();
        await tagged.close();
      }
    },
  );

  it("attaches a file sent in parts once its parts are joined, and aborts one given up", async () => {
    const MiB = 1024 * 1024;
    const body = Buffer.alloc(6 * MiB + 7, 7);
    const doc = Object.assign(new Document(), { ownerId: 8 });
    const request = await doc.attachment.createMultipartUpload("movie.mp4", { size: body.length, partSize: 5 * MiB });
    expect(request.key).toMatch(/^documents\/\d{4}\/\d{2}\/movie_[A-Za-z0-9]{16}\.mp4$/);
    expect(request.parts).toHaveLength(2);
    // every part signed again, as when the first URLs expired
    const { parts: fresh } = await doc.attachment.signUploadParts(request.ticket, { expiresIn: 1200 });
    expect(fresh.map((p) => p.size)).toEqual(request.parts.map((p) => p.size));
    const parts = [];
    let offset = 0;
    for (const part of fresh) {
      const response = await fetch(part.url, {
        method: "PUT",
        body: new Uint8Array(body.subarray(offset, offset + part.size)),
      });
      offset += part.size;
      parts.push({ partNumber: part.partNumber, etag: response.headers.get("etag") as string });
    }
    await expect(doc.attachment.attachUpload(request.ticket)).rejects.toThrow(/sent in 2 parts/);
    // a missing part would make S3 join a shorter object: refused before completing
    await expect(doc.attachment.attachUpload(request.ticket, { parts: parts.slice(0, 1) })).rejects.toThrow(
      /pass each part's number and ETag, 1 to 2/,
    );
    await expect(doc.attachment.attachUpload(request.ticket, { parts })).resolves.toBe(request.key);
    const loaded = await docs().findOneByOrFail({ id: doc.id });
    expect((await loaded.attachment.read()).equals(body)).toBe(true);
    await expect(doc.attachment.abortUpload(request.ticket)).rejects.toThrow(/attached to a row/);
    const single = await doc.attachment.createUpload("one.txt", { size: 1 });
    await expect(doc.attachment.signUploadParts(single.ticket)).rejects.toThrow(/single PUT/);

    const given = await new Document().attachment.createMultipartUpload("gone.mp4", { size: 6 * MiB });
    // never past the ticket, and never for no part at all
    const { parts: capped } = await new Document().attachment.signUploadParts(given.ticket, { expiresIn: 604800 });
    expect(Number(new URL(capped[0].url).searchParams.get("X-Amz-Expires"))).toBeLessThanOrEqual(600 + 6 * 3600);
    await expect(new Document().attachment.signUploadParts(given.ticket, { partNumbers: [] })).rejects.toThrow(
      RangeError,
    );
    await fetch(given.parts[0].url, { method: "PUT", body: new Uint8Array(given.parts[0].size) });
    await new Document().attachment.abortUpload(given.ticket);
    expect(await s3.exists(given.key)).toBe(false);
    await expect(
      new Document().attachment.attachUpload(given.ticket, { parts: [{ partNumber: 1, etag: '"x"' }] }),
    ).rejects.toThrow(/Cannot complete|Could not upload/);
  });

  it("attaches a file sent in parts on a storage that sets a Content-Encoding, and keeps it if the save fails", async () => {
    const MiB = 1024 * 1024;
    const encoded = makeS3Storage(bucket, "default", {
      location: "encoded",
      objectParameters: { ContentEncoding: "identity" },
    });
    storages.configure({ default: encoded, private: secret }, { signingSecret: SECRET });
    try {
      const body = Buffer.alloc(6 * MiB, 3);
      const doc = new Document();
      const request = await doc.attachment.createMultipartUpload("data.bin", { size: body.length, partSize: 5 * MiB });
      expect(request.contentEncoding).toBe("identity");
      const parts = [];
      let offset = 0;
      for (const part of request.parts) {
        const response = await fetch(part.url, {
          method: "PUT",
          headers: part.headers,
          body: new Uint8Array(body.subarray(offset, offset + part.size)),
        });
        offset += part.size;
        parts.push({ partNumber: part.partNumber, etag: response.headers.get("etag") as string });
      }
      const save = jest.spyOn(ds.manager, "save").mockRejectedValueOnce(new Error("database down"));
      try {
        await expect(doc.attachment.attachUpload(request.ticket, { parts })).rejects.toThrow("database down");
      } finally {
        save.mockRestore();
      }
      expect(await encoded.exists(request.key)).toBe(true); // joined, and kept for the retry
      await expect(doc.attachment.attachUpload(request.ticket, { parts })).resolves.toBe(request.key);
      expect((await doc.attachment.read()).equals(body)).toBe(true);
    } finally {
      await encoded.close();
    }
  });

  it("attaches a file sent gzipped on a storage whose objects are gzip-encoded, by the size it was sent with", async () => {
    const encoded = makeS3Storage(bucket, "default", {
      location: "gzipped",
      objectParameters: { ContentEncoding: "gzip" },
    });
    storages.configure({ default: encoded, private: secret }, { signingSecret: SECRET });
    try {
      const text = Buffer.from("line of text\n".repeat(1000));
      const body = gzipSync(text);
      const doc = new Document();
      const request = await doc.attachment.createUpload("notes.txt", { size: body.length });
      const response = await fetch(request.url, {
        method: "PUT",
        headers: request.headers,
        body: new Uint8Array(body),
      });
      expect(response.status).toBe(200);
      // size() counts the original bytes, as read() gives them; the ticket signed the bytes sent
      await expect(doc.attachment.attachUpload(request.ticket)).resolves.toBe(request.key);
      expect(await doc.attachment.size()).toBe(text.length);
      expect((await doc.attachment.read()).equals(text)).toBe(true);
    } finally {
      await encoded.close();
    }
  });

  it("refuses a list of types, which browsers read by its last entry, and sends a malformed one as an attachment", async () => {
    const doc = new Document();
    await expect(
      doc.attachment.createUpload("avatar.png", { size: 4, contentType: "image/png, text/html" }),
    ).rejects.toEqual(refusal("accept"));
    // save() ignores a malformed type the content claims (a multer file's), and guesses from the name
    await doc.attachment.save("a.png", {
      originalname: "a.png",
      mimetype: "image/png, text/html",
      buffer: Buffer.from("x"),
    });
    expect((await doc.attachment.stat()).contentType).toBe("image/png");
  });

  it("refuses, and deletes, a file sent with an encoding the URL did not sign (a decompression bomb)", async () => {
    const bomb = gzipSync(Buffer.alloc(5_000_000));
    const doc = new Document();
    const request = await doc.attachment.createUpload("small.bin", { size: bomb.length });
    const response = await fetch(request.url, {
      method: "PUT",
      headers: { ...request.headers, "content-encoding": "gzip" },
      body: new Uint8Array(bomb),
    });
    if (response.status === 200) {
      const error = (await doc.attachment.attachUpload(request.ticket).catch((e) => e)) as FileValidationError;
      expect(error).toEqual(refusal("upload"));
      expect(error.message).toContain("gzip-encoded");
      expect(await s3.exists(request.key)).toBe(false);
    } else {
      expect(response.status).toBe(403); // a server that insists on signing it
    }
    expect(doc.attachment.isEmpty).toBe(true);
  });
});

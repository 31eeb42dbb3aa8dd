import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { type DataSource, Like } from "typeorm";
import { FileFieldSubscriber, reconcileFiles, type S3Storage, StorageConfigError, storages } from "../../src";
import { DB, openDataSource } from "../support/dataSource";
import { captureRequests, countRequests, createTestBucket, deleteTestBucket, makeS3Storage } from "../support/s3";
import { Avatar, Document } from "./entities";

let ds: DataSource;
let bucket: string;
let media: S3Storage;
let secret: S3Storage;

beforeAll(async () => {
  bucket = await createTestBucket("entities");
  media = makeS3Storage(bucket, "default", { location: "media", querystringAuth: false });
  secret = makeS3Storage(bucket, "default", { location: "private" });
  storages.configure({ default: media, private: secret });
  ds = await openDataSource([Document, Avatar], [FileFieldSubscriber]);
});

afterAll(async () => {
  await ds?.destroy();
  await storages.close();
  await deleteTestBucket(bucket);
});

describe(`file fields on S3 and ${DB}`, () => {
  it("uploads, persists, reads back, replaces and deletes through a real S3 server", async () => {
    const doc = Object.assign(new Document(), { ownerId: 9 });
    await doc.contract.save("contract.pdf", Buffer.from("%PDF-1.7 private"));
    expect(doc.contract.name).toBe("users/9/contract.pdf");
    expect(doc.contract.url).toMatch(/\/private\/users\/9\/contract\.pdf\?.*X-Amz-Signature=/);
    const loaded = await ds.getRepository(Document).findOneByOrFail({ id: doc.id });
    expect((await loaded.contract.read()).toString()).toBe("%PDF-1.7 private");
    expect(await loaded.contract.size()).toBe(16);
    const response = await fetch(loaded.contract.url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("%PDF-1.7 private");

    await loaded.contract.save("contract.pdf", Buffer.from("v2"));
    expect(await secret.exists("users/9/contract.pdf")).toBe(false);
    await loaded.contract.delete();
    expect(await secret.listdir("users/9")).toEqual({ directories: [], files: [] });
  });

  it("refuses a private field on a storage writing public-read objects before a byte is sent, presigned URLs or not", async () => {
    const exposed = makeS3Storage(bucket, "default", { location: "private", defaultAcl: "public-read" });
    storages.configure({ default: media, private: exposed });
    const sent = captureRequests(exposed.client);
    try {
      const doc = Object.assign(new Document(), { ownerId: 12 });
      const failure = await doc.contract.save("payslip.pdf", "salary", { save: false }).catch((e) => e);
      expect(failure).toBeInstanceOf(StorageConfigError);
      expect(failure.message).toMatch(
        /^Document\.contract is private, but storage "private" writes its objects with a public ACL, .*\(defaultAcl, AWS_DEFAULT_ACL\).*\(AWS_S3_OBJECT_PARAMETERS\)/,
      );
      await expect(doc.contract.createUpload("payslip.pdf", { size: 6 })).rejects.toBeInstanceOf(StorageConfigError);
      await expect(doc.contract.createMultipartUpload("payslip.pdf", { size: 6 })).rejects.toBeInstanceOf(
        StorageConfigError,
      );
      doc.contract.assign("users/12/old.pdf");
      expect(() => doc.contract.url).toThrow(/writes its objects with a public ACL/);
      expect(sent).toEqual([]);
      expect(await secret.exists("users/12/payslip.pdf")).toBe(false);
    } finally {
      storages.configure({ default: media, private: secret });
      await exposed.close();
    }
  });

  it("reconciles the private storage with its rows: one listing, the orphan deleted, the rest kept", async () => {
    const doc = Object.assign(new Document(), { ownerId: 31 });
    await doc.contract.save("signed.pdf", "kept");
    await secret.save("users/31/forgotten.pdf", "orphan");
    const requests = countRequests(secret.client);
    const [report] = await reconcileFiles(ds, { storages: ["private"], minAge: 0, deleteOrphans: true });
    expect(report.orphans.map((o) => o.name)).toContain("users/31/forgotten.pdf");
    expect(report.orphans.map((o) => o.name)).not.toContain("users/31/signed.pdf");
    expect(report.failures).toEqual([]);
    expect(await secret.exists("users/31/forgotten.pdf")).toBe(false);
    expect(await secret.exists("users/31/signed.pdf")).toBe(true);
    expect(requests.names.filter((n) => n === "ListObjectsV2Command")).toHaveLength(1);
  });

  it("stores svg as an attachment unless the field allows it inline", async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';
    const avatar = new Avatar();
    await avatar.image.save("x.svg", svg);
    await avatar.trustedSvg.save("y.svg", svg);
    const head = async (key: string) =>
      media.client.send(new HeadObjectCommand({ Bucket: bucket, Key: `media/${key}` }));
    const risky = await head(avatar.image.name as string);
    const trusted = await head(avatar.trustedSvg.name as string);
    expect(risky.ContentType).toBe("image/svg+xml");
    expect(risky.ContentDisposition).toBe("attachment");
    expect(trusted.ContentDisposition).toBeUndefined();
  });

  it("loads 1,000 rows and renders every URL without a single S3 request", async () => {
    const repo = ds.getRepository(Document);
    for (let start = 0; start < 1000; start += 100) {
      const rows = Array.from({ length: 100 }, (_, i) => ({ title: `bulk-${start + i}`, ownerId: start + i }));
      await repo.createQueryBuilder().insert().values(rows).updateEntity(false).execute();
    }
    await repo
      .createQueryBuilder()
      .update()
      .set({ attachment: () => "'documents/2026/11/a.png'", contract: () => "'users/1/c.pdf'" } as never)
      .where("title LIKE 'bulk-%'")
      .execute();
    await storages.ready();
    const publicCount = countRequests(media.client);
    const privateCount = countRequests(secret.client);
    const loaded = await repo.find({ where: { title: Like("bulk-%") } });
    const urls = loaded.flatMap((d) => [d.attachment.url, d.contract.url, JSON.stringify(d)]);
    expect(loaded).toHaveLength(1000);
    expect(urls[0]).toMatch(/\/media\/documents\/2026\/11\/a\.png$/);
    expect(urls[1]).toMatch(/X-Amz-Signature=/);
    expect(publicCount.count + privateCount.count).toBe(0);
  });
});

import { StorageOperationError } from "../../src/errors/StorageOperationError";
import type { S3Storage } from "../../src/storage/S3Storage";
import { createTestBucket, deleteTestBucket, describeStrict, makeS3Storage, rawClient } from "../support/s3";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeStrict("S3Storage on a strict S3 server", () => {
  let bucket: string;
  let storage: S3Storage;
  const raw = rawClient();

  beforeAll(async () => {
    bucket = await createTestBucket("strict");
    storage = makeS3Storage(bucket, "default", { location: "media" });
    await storage.ready();
  });

  afterAll(async () => {
    await storage.close();
    await deleteTestBucket(bucket);
    raw.destroy();
  });

  it("refuses a presigned URL whose signature was tampered with", async () => {
    const key = await storage.save("t/a.txt", "secret");
    const url = storage.url(key);
    const last = url.at(-1) === "0" ? "1" : "0";
    const response = await fetch(url.slice(0, -1) + last);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("SignatureDoesNotMatch");
  });

  it("refuses a presigned URL pointed at another key", async () => {
    await storage.save("t/b.txt", "other");
    const url = storage.url("t/a-signed.txt").replace("a-signed.txt", "b.txt");
    expect((await fetch(url)).status).toBe(403);
  });

  it("refuses an expired presigned URL", async () => {
    const key = await storage.save("t/expiring.txt", "soon gone");
    const url = storage.url(key, { expiresIn: 1 });
    expect((await fetch(url)).status).toBe(200);
    await sleep(2100);
    const response = await fetch(url);
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("AccessDenied");
  });

  it("refuses anonymous reads of objects saved without an ACL", async () => {
    const key = await storage.save("t/private.txt", "private");
    const unsigned = makeS3Storage(bucket, "default", { location: "media", querystringAuth: false });
    const response = await fetch(unsigned.url(key));
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("AccessDenied");
    await unsigned.close();
  });

  it("serves objects saved with defaultAcl public-read to anyone", async () => {
    const publicStorage = makeS3Storage(bucket, "required", {
      location: "public",
      defaultAcl: "public-read",
      querystringAuth: false,
    });
    const key = await publicStorage.save("p/hello.txt", "hello world");
    const response = await fetch(publicStorage.url(key));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("hello world");
    await publicStorage.close();
  });

  it("wraps a signature failure from a wrong secret with its cause", async () => {
    const wrong = makeS3Storage(bucket, "default", { secretKey: "not-the-secret" });
    const error = await wrong.save("t/never.txt", "x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageOperationError);
    expect(((error as Error).cause as Error).name).toBe("SignatureDoesNotMatch");
    expect((error as Error).message).toContain("The credentials were refused. Check accessKey and secretKey");
    await wrong.close();
  });
});

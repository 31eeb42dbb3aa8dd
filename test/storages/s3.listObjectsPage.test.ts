import http from "node:http";
import type { AddressInfo } from "node:net";
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { S3Storage } from "../../src/storage/S3Storage";
import { syncMetadata } from "../../src/storage/syncMetadata";
import { createTestBucket, deleteTestBucket, makeS3Storage, rawClient, s3Env } from "../support/s3";

const XML_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const xmlText = (text: string) =>
  text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (_, entity: string) =>
    entity[0] === "#"
      ? String.fromCodePoint(Number.parseInt(entity.slice(entity[1] === "x" ? 2 : 1), entity[1] === "x" ? 16 : 10))
      : XML_ENTITIES[entity],
  );
/** S3's `encoding-type=url`: form encoding, a space as "+". */
const s3UrlEncode = (text: string) => encodeURIComponent(text).replace(/%20/g, "+");

/**
 * A reverse proxy in front of s3rver (which ignores `encoding-type`) that answers a ListObjectsV2 asking
 * for `encoding-type=url` as S3 does: keys and prefixes URL-encoded, `<EncodingType>url</EncodingType>`.
 * A server that encodes itself (Ceph in the strict pass) is passed through. Records the listing requests.
 */
async function urlEncodingS3(upstream: string) {
  const agent = new http.Agent({ keepAlive: true });
  const listings: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url as string, upstream);
    const listing = req.method === "GET" && url.searchParams.get("list-type") === "2";
    if (listing) listings.push(url.search);
    const encode = listing && url.searchParams.get("encoding-type") === "url";
    const forwarded = http.request(url, { method: req.method, headers: req.headers, agent }, (answer) => {
      if (!encode || answer.statusCode !== 200) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on("data", (chunk: Buffer) => chunks.push(chunk));
      answer.on("end", () => {
        const received = Buffer.concat(chunks).toString("utf8");
        // a server that encodes itself (Ceph, S3) is passed on as it answered
        const body = /<EncodingType>/.test(received)
          ? received
          : received
              .replace(
                /<(Key|Prefix|Delimiter|StartAfter)>([^<]*)<\/\1>/g,
                (_, tag: string, text: string) => `<${tag}>${s3UrlEncode(xmlText(text))}</${tag}>`,
              )
              .replace(/(<ListBucketResult[^>]*>)/, "$1<EncodingType>url</EncodingType>");
        const headers = { ...answer.headers };
        delete headers["content-length"];
        res.writeHead(200, headers);
        res.end(body);
      });
    });
    forwarded.on("error", () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    listings,
    close: () => {
      server.closeAllConnections();
      agent.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("ListObjectsV2 with encoding-type=url", () => {
  let bucket: string;
  let proxy: Awaited<ReturnType<typeof urlEncodingS3>>;
  let storage: S3Storage;
  const raw = rawClient();
  // XML 1.0 turns a carriage return into a line feed: without encoding-type=url this key lists as "a\nb.txt"
  const keys = ["a\rb.txt", "plus+and space.txt", "per%25cent&amp.txt", "ü/é.txt"];

  beforeAll(async () => {
    bucket = await createTestBucket("list-encoding");
    proxy = await urlEncodingS3(s3Env().endpoint);
    storage = makeS3Storage(bucket, "default", { endpointUrl: proxy.url, location: "media" });
    for (const key of keys) await raw.send(new PutObjectCommand({ Bucket: bucket, Key: `media/d/${key}`, Body: "x" }));
  });

  afterAll(async () => {
    await storage.close();
    await proxy.close();
    // deleteTestBucket lists without encoding-type (s3rver has none), so it would never find this key's name
    for (const key of keys) await raw.send(new DeleteObjectCommand({ Bucket: bucket, Key: `media/d/${key}` }));
    await deleteTestBucket(bucket);
    raw.destroy();
  });

  it("asks for URL-encoded keys and decodes them in listdir", async () => {
    proxy.listings.length = 0;
    expect(await storage.listdir("d")).toEqual({
      directories: ["ü"],
      files: expect.arrayContaining(["a\rb.txt", "plus+and space.txt", "per%25cent&amp.txt"]),
    });
    expect(proxy.listings.length).toBeGreaterThan(0);
    for (const query of proxy.listings) expect(new URLSearchParams(query).get("encoding-type")).toBe("url");
  });

  it("decodes them in listAll", async () => {
    const names = (await storage.listAll("d")).map((object) => object.name);
    expect(names.sort()).toEqual(keys.map((key) => `d/${key}`).sort());
  });

  it("decodes them in syncMetadata, which rewrites every object instead of counting some as missing", async () => {
    const current = makeS3Storage(bucket, "default", { endpointUrl: proxy.url, location: "media", maxAgeSeconds: 60 });
    try {
      const summary = await syncMetadata(current, "d/");
      expect(summary).toMatchObject({ examined: keys.length, updated: keys.length, missing: 0, failed: 0 });
      const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: "media/d/a\rb.txt" }));
      expect(head.CacheControl).toContain("max-age=60");
    } finally {
      await current.close();
    }
  });
});

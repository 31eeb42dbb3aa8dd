import { createHash, createHmac } from "node:crypto";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { SignatureV4 } from "@smithy/signature-v4";
import { S3UrlSigner } from "../../src/drivers/s3/S3UrlSigner";
import { StorageConfigError } from "../../src/errors/StorageConfigError";
import { StorageOperationError } from "../../src/errors/StorageOperationError";
import { S3Storage } from "../../src/storage/S3Storage";
import {
  CHECKSUM_MODES,
  checksumConfig,
  countRequests,
  createTestBucket,
  deleteTestBucket,
  makeS3Storage,
  s3Env,
  strict,
} from "../support/s3";

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** node:crypto in the shape @smithy/signature-v4 wants, so the SDK's own signer can check ours. */
class Sha256 {
  readonly #hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash = secret ? createHmac("sha256", toBytes(secret)) : createHash("sha256");
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
}

describe("S3UrlSigner", () => {
  it("produces the same signature as the SDK's SigV4 signer for a GET with overrides and a session token", async () => {
    const credentials = { accessKeyId: "AKID", secretAccessKey: "SECRET", sessionToken: "TOK/EN+=" };
    const now = Date.parse("2026-01-02T03:04:05Z");
    const ours = new URL(
      new S3UrlSigner().presign(credentials, {
        origin: "http://127.0.0.1:9000",
        path: "/bucket/dir/a%20b%2Bc%21.txt",
        region: "eu-central-1",
        expiresIn: 900,
        now,
        responseContentDisposition: "attachment; filename*=UTF-8''%C3%BC.pdf",
        responseContentType: "application/pdf",
      }),
    );
    const sdk = new SignatureV4({
      credentials,
      region: "eu-central-1",
      service: "s3",
      sha256: Sha256,
      uriEscapePath: false,
    });
    const signed = await sdk.presign(
      {
        method: "GET",
        protocol: "http:",
        hostname: "127.0.0.1",
        port: 9000,
        path: "/bucket/dir/a%20b%2Bc%21.txt",
        query: {
          "response-content-disposition": "attachment; filename*=UTF-8''%C3%BC.pdf",
          "response-content-type": "application/pdf",
        },
        headers: { host: "127.0.0.1:9000", "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
      },
      {
        signingDate: new Date(now),
        expiresIn: 900,
        unsignableHeaders: new Set(["x-amz-content-sha256"]),
        unhoistableHeaders: new Set(["x-amz-content-sha256"]),
      },
    );
    expect(ours.searchParams.get("X-Amz-Signature")).toBe(signed.query?.["X-Amz-Signature"]);
    expect(ours.searchParams.get("X-Amz-Credential")).toBe("AKID/20260102/eu-central-1/s3/aws4_request");
    expect(ours.searchParams.get("X-Amz-Security-Token")).toBe("TOK/EN+=");
  });
});

describe.each(CHECKSUM_MODES)("S3Storage URLs with %s SDK checksums", (mode) => {
  let bucket: string;
  let storage: S3Storage;
  const { endpoint } = s3Env();

  beforeAll(async () => {
    bucket = await createTestBucket(`urls-${mode}`);
    storage = makeS3Storage(bucket, mode, { location: "media" });
    await storage.ready();
  });

  afterAll(async () => {
    await storage.close();
    await deleteTestBucket(bucket);
  });

  it("presigns a URL without x-amz-checksum parameters that plain fetch can read", async () => {
    const key = await storage.save("docs/report.txt", "signed bytes");
    const url = storage.url(key);
    expect(url.startsWith(`${endpoint}/${bucket}/media/docs/report.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&`)).toBe(true);
    expect(url.toLowerCase()).not.toContain("x-amz-checksum");
    expect(url).not.toContain("x-id=");
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("signed bytes");
  });

  it("encodes keys the way S3 canonicalises them and still serves them", async () => {
    const key = await storage.save("odd/ä b+c (1)!.txt", "odd");
    const url = storage.url(key);
    expect(url).toContain("/media/odd/%C3%A4%20b%2Bc%20%281%29%21.txt?");
    expect(await (await fetch(url)).text()).toBe("odd");
  });

  it("honours download-name and content-type overrides, with RFC 5987 encoding", async () => {
    const key = await storage.save("docs/data.bin", "payload");
    const url = storage.url(key, { download: "Bericht ü.pdf", contentType: "application/pdf" });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toBe(
      "attachment; filename=\"Bericht _.pdf\"; filename*=UTF-8''Bericht%20%C3%BC.pdf",
    );
    expect(response.headers.get("content-type")).toBe("application/pdf");
  });

  it("serves a content-type override a browser could run (html, svg) as an attachment, as serveFiles does", async () => {
    const key = await storage.save("docs/picture.png", "<script>alert(1)</script>");
    for (const contentType of ["text/html", "image/svg+xml", "text/plain, text/html"]) {
      const response = await fetch(storage.url(key, { contentType }));
      expect([contentType, response.status]).toEqual([contentType, 200]);
      expect(response.headers.get("content-disposition")).toBe(
        "attachment; filename=\"picture.png\"; filename*=UTF-8''picture.png",
      );
    }
    // a download name still wins, and a safe override stays inline
    const named = await fetch(storage.url(key, { contentType: "text/html", download: "page.txt" }));
    expect(named.headers.get("content-disposition")).toMatch(/^attachment; filename="page.txt"/);
    const plain = await fetch(storage.url(key, { contentType: "text/plain" }));
    expect(plain.headers.get("content-disposition")).toBeNull();
    // a storage that opts out of the protection gets the type inline
    const unsafe = makeS3Storage(bucket, mode, { location: "media", allowUnsafeInline: true });
    await unsafe.ready();
    const inline = await fetch(unsafe.url(key, { contentType: "text/html" }));
    expect(inline.headers.get("content-disposition")).toBeNull();
    await unsafe.close();
  });

  it("uses publicEndpointUrl only for URLs, signed for that host", async () => {
    // Same server under another host name: writes go to endpointUrl, the URL (and its signature) to localhost.
    const publicEndpoint = endpoint.replace("127.0.0.1", "localhost");
    const other = makeS3Storage(bucket, mode, { location: "media", publicEndpointUrl: publicEndpoint });
    const key = await other.save("docs/public-host.txt", "via localhost");
    const url = other.url(key);
    expect(url.startsWith(`${publicEndpoint}/${bucket}/media/docs/public-host.txt?X-Amz-`)).toBe(true);
    expect(await (await fetch(url)).text()).toBe("via localhost");
    await other.close();
  });

  it("serves objects through a publicUrl pointing at the location, with unicode and spaces in keys", async () => {
    const publicStorage = makeS3Storage(bucket, mode, {
      location: "media",
      querystringAuth: false,
      publicUrl: `${endpoint}/${bucket}/media`,
      // Ceph RGW enforces ACLs; s3rver ignores them and serves any object anonymously.
      ...(strict ? { defaultAcl: "public-read" } : {}),
    });
    const key = await publicStorage.save("public/ä b+c (1)!.txt", "public bytes");
    const requests = countRequests(publicStorage.client);
    const url = publicStorage.url(key);
    expect(requests.count).toBe(0);
    expect(url).toBe(`${endpoint}/${bucket}/media/public/%C3%A4%20b%2Bc%20%281%29%21.txt`);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("public bytes");
    await publicStorage.close();
  });

  it("builds URLs synchronously and sends no request for them", () => {
    const requests = countRequests(storage.client);
    const urls = Array.from({ length: 1000 }, (_, i) => storage.url(`many/${i}.txt`, { expiresIn: 60 }));
    expect(urls.every((u) => typeof u === "string" && u.includes("X-Amz-Expires=60&"))).toBe(true);
    expect(requests.count).toBe(0);
  });
});

describe("S3Storage URL options", () => {
  const { endpoint, accessKey, secretKey } = s3Env();
  const base = { bucketName: "bkt", endpointUrl: endpoint, accessKey, secretKey, regionName: "us-east-1" };

  it("refuses a URL before ready() when credentials come from a provider, naming storages.ready()", async () => {
    const client = new S3Client({
      endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: async () => ({ accessKeyId: accessKey, secretAccessKey: secretKey }),
    });
    const storage = new S3Storage({ bucketName: "bkt", client, endpointUrl: endpoint, addressingStyle: "path" });
    let thrown: unknown;
    try {
      storage.url("a.txt");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StorageConfigError);
    expect((thrown as Error).message).toContain("await storages.ready()");
    await storage.ready();
    expect(storage.url("a.txt")).toMatch(new RegExp(`^${endpoint}/bkt/a\\.txt\\?X-Amz-Algorithm=`));
    await storage.close();
    client.destroy();
  });

  it("learns endpoint, region and path style from an injected client in ready()", async () => {
    const client = new S3Client({
      endpoint: "http://127.0.0.1:9",
      region: "eu-west-3",
      forcePathStyle: true,
      credentials: { accessKeyId: "AK", secretAccessKey: "SK" },
    });
    const storage = new S3Storage({ bucketName: "bkt", client });
    await storage.ready();
    const url = new URL(storage.url("x.txt"));
    expect(`${url.origin}${url.pathname}`).toBe("http://127.0.0.1:9/bkt/x.txt");
    expect(url.searchParams.get("X-Amz-Credential")).toBe(
      `AK/${url.searchParams.get("X-Amz-Date")?.slice(0, 8)}/eu-west-3/s3/aws4_request`,
    );
    await storage.close();
    client.destroy();
  });

  it("lets the connection options shape URLs with an injected client, before and after ready()", async () => {
    const client = new S3Client({
      endpoint: "http://10.0.0.5:9000", // the app's private route to the S3 service
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "AK", secretAccessKey: "SK" },
    });
    const storage = new S3Storage({
      bucketName: "bkt",
      client,
      endpointUrl: "https://s3.example.com",
      regionName: "eu-west-3",
      addressingStyle: "path",
      querystringAuth: false,
    });
    expect(storage.url("a.txt")).toBe("https://s3.example.com/bkt/a.txt");
    await storage.ready();
    expect(storage.url("a.txt")).toBe("https://s3.example.com/bkt/a.txt");
    await storage.close();
    client.destroy();
  });

  it("never lets a URL outlive temporary credentials", async () => {
    const expiration = new Date(Date.now() + 10 * 60 * 1000);
    const client = new S3Client({
      endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: async () => ({ accessKeyId: "ASIA", secretAccessKey: "S", sessionToken: "T", expiration }),
    });
    const storage = new S3Storage({ bucketName: "bkt", client, endpointUrl: endpoint, addressingStyle: "path" });
    await storage.ready();
    const url = new URL(storage.url("a.txt", { expiresIn: 3600 }));
    expect(Number(url.searchParams.get("X-Amz-Expires"))).toBeLessThanOrEqual(600);
    expect(Number(url.searchParams.get("X-Amz-Expires"))).toBeGreaterThan(590);
    expect(url.searchParams.get("X-Amz-Security-Token")).toBe("T");
    await storage.close();
    client.destroy();
  });

  it("refuses an expiry beyond S3's 7 days with the reason", () => {
    const storage = new S3Storage(base);
    let thrown: unknown;
    try {
      storage.url("a.txt", { expiresIn: 8 * 24 * 3600 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StorageOperationError);
    expect((thrown as Error).cause).toBeInstanceOf(RangeError);
    expect((thrown as Error).message).toContain("7 days");
  });

  it("builds unsigned URLs on the custom domain with the location prefix and url protocol", () => {
    const storage = new S3Storage({
      ...base,
      location: "static",
      querystringAuth: false,
      customDomain: "cdn.example.com",
      urlProtocol: "http:",
    });
    expect(storage.url("css/a b.css")).toBe("http://cdn.example.com/static/css/a%20b.css");
  });

  it("presigns against the endpoint, not the custom domain, when querystringAuth stays on", () => {
    const storage = new S3Storage({ ...base, customDomain: "cdn.example.com", addressingStyle: "path" });
    expect(storage.url("a.txt").startsWith(`${endpoint}/bkt/a.txt?X-Amz-`)).toBe(true);
  });

  it("puts the bucket in the host name with virtual addressing, and in the path for an IP endpoint on auto", () => {
    const virtual = new S3Storage({
      ...base,
      endpointUrl: "https://s3.example.com",
      querystringAuth: false,
      addressingStyle: "virtual",
    });
    expect(virtual.url("k.txt")).toBe("https://bkt.s3.example.com/k.txt");
    const auto = new S3Storage({ ...base, querystringAuth: false });
    expect(auto.url("k.txt")).toBe(`${endpoint}/bkt/k.txt`);
    const aws = new S3Storage({
      bucketName: "bkt",
      regionName: "eu-west-1",
      accessKey: "A",
      secretKey: "S",
      querystringAuth: false,
    });
    expect(aws.url("k.txt")).toBe("https://bkt.s3.eu-west-1.amazonaws.com/k.txt");
  });

  it("puts the bucket in the path on auto with an endpointUrl host name, as botocore does, for URLs and requests", async () => {
    // django-storages and django-s3-storage (botocore) use path style for any endpoint_url unless
    // addressing_style is "virtual": MinIO or LocalStack at http://minio:9000 has no bucket subdomains.
    const options = { bucketName: "bkt", endpointUrl: "http://minio.internal:9000", accessKey: "A", secretKey: "S" };
    const auto = new S3Storage({ ...options, querystringAuth: false });
    expect(auto.url("k.txt")).toBe("http://minio.internal:9000/bkt/k.txt");
    const signed = new S3Storage(options);
    expect(signed.url("k.txt")).toMatch(/^http:\/\/minio\.internal:9000\/bkt\/k\.txt\?X-Amz-/);
    await signed.ready();
    expect(signed.url("k.txt")).toMatch(/^http:\/\/minio\.internal:9000\/bkt\/k\.txt\?X-Amz-/);
    const sent: string[] = [];
    signed.client.middlewareStack.add(
      () => async (args) => {
        const request = args.request as { hostname: string; path: string };
        sent.push(`${request.hostname}${request.path}`);
        throw new Error("not sent");
      },
      { step: "finalizeRequest", priority: "low" },
    );
    await expect(signed.exists("k.txt")).rejects.toThrow("not sent");
    expect(sent).toEqual(["minio.internal/bkt/k.txt"]);
    // "virtual" still asks for the bucket's host name, and clientConfig's own choice is kept
    const virtual = new S3Storage({ ...options, querystringAuth: false, addressingStyle: "virtual" });
    expect(virtual.url("k.txt")).toBe("http://bkt.minio.internal:9000/k.txt");
    const fromConfig = new S3Storage({ ...options, querystringAuth: false, clientConfig: { forcePathStyle: false } });
    expect(fromConfig.url("k.txt")).toBe("http://bkt.minio.internal:9000/k.txt");
    await Promise.all([auto, signed, virtual, fromConfig].map((s) => s.close()));
  });

  it("saves and reads through an endpointUrl host name with the default addressing style", async () => {
    const { endpoint: ip } = s3Env();
    const bucket = await createTestBucket("auto-style");
    const storage = new S3Storage({
      bucketName: bucket,
      endpointUrl: ip.replace("127.0.0.1", "localhost"),
      regionName: "us-east-1",
      accessKey,
      secretKey,
    });
    try {
      await storage.save("a.txt", "hello");
      expect((await storage.read("a.txt")).toString()).toBe("hello");
      await storage.ready();
      const response = await fetch(storage.url("a.txt"));
      expect(await response.text()).toBe("hello");
    } finally {
      await storage.close();
      await deleteTestBucket(bucket);
    }
  });

  /** Origin and path of the URL the SDK's own presigner makes for the same storage: where its requests go. */
  const sdkTarget = async (storage: S3Storage) => {
    const url = new URL(await getSignedUrl(storage.client, new GetObjectCommand({ Bucket: "bkt", Key: "a.txt" })));
    return { at: `${url.origin}${url.pathname}`, scope: url.searchParams.get("X-Amz-Credential")?.split("/")[2] };
  };
  const ourTarget = (storage: S3Storage) => {
    const url = new URL(storage.url("a.txt"));
    return { at: `${url.origin}${url.pathname}`, scope: url.searchParams.get("X-Amz-Credential")?.split("/")[2] };
  };

  it.each([
    ["an AWS China region", { regionName: "cn-north-1" }, "https://bkt.s3.cn-north-1.amazonaws.com.cn/a.txt"],
    ["a GovCloud region", { regionName: "us-gov-west-1" }, "https://bkt.s3.us-gov-west-1.amazonaws.com/a.txt"],
    [
      "FIPS endpoints",
      { regionName: "us-east-1", clientConfig: { useFipsEndpoint: true } },
      "https://bkt.s3-fips.us-east-1.amazonaws.com/a.txt",
    ],
    [
      "a region from clientConfig",
      { endpointUrl: "http://127.0.0.1:9000", clientConfig: { region: "eu-central-1" } },
      "http://127.0.0.1:9000/bkt/a.txt",
    ],
    [
      "path style from clientConfig",
      { endpointUrl: "http://minio.local:9000", regionName: "us-east-1", clientConfig: { forcePathStyle: true } },
      "http://minio.local:9000/bkt/a.txt",
    ],
  ])("points URLs where the client sends requests, for %s, before and after ready()", async (_, options, expected) => {
    const storage = new S3Storage({ bucketName: "bkt", accessKey: "AK", secretKey: "SK", ...options });
    const before = ourTarget(storage);
    await storage.ready();
    const sdk = await sdkTarget(storage);
    expect(sdk.at).toBe(expected);
    expect(before).toEqual(sdk);
    expect(ourTarget(storage)).toEqual(sdk);
    await storage.close();
  });

  it("follows AWS_ENDPOINT_URL_S3, which the client follows, in URLs", async () => {
    process.env.AWS_ENDPOINT_URL_S3 = "http://127.0.0.1:9999";
    try {
      const storage = new S3Storage({ bucketName: "bkt", regionName: "eu-west-1", accessKey: "AK", secretKey: "SK" });
      const before = ourTarget(storage);
      await storage.ready();
      const sdk = await sdkTarget(storage);
      expect(sdk.at).toBe("http://127.0.0.1:9999/bkt/a.txt");
      expect([before, ourTarget(storage)]).toEqual([sdk, sdk]);
      await storage.close();
    } finally {
      delete process.env.AWS_ENDPOINT_URL_S3;
    }
  });

  it("puts a bucket name with two hyphens in the host name, as the SDK does", async () => {
    const storage = new S3Storage({
      bucketName: "my--bucket",
      regionName: "eu-west-1",
      accessKey: "A",
      secretKey: "S",
    });
    expect(new URL(storage.url("a.txt")).host).toBe("my--bucket.s3.eu-west-1.amazonaws.com");
    await storage.close();
  });

  it("builds publicUrl URLs from the prefix and the name relative to location, as django-s3-storage", () => {
    const storage = new S3Storage({
      bucketName: "bkt",
      location: "media/uploads",
      querystringAuth: false,
      publicUrl: "https://cdn.example.com/assets",
    });
    expect(storage.url("a b/ü.txt")).toBe("https://cdn.example.com/assets/a%20b/%C3%BC.txt");
    const trailing = new S3Storage({ ...base, querystringAuth: false, publicUrl: "http://cdn.example.com//" });
    expect(trailing.url("k.txt")).toBe("http://cdn.example.com/k.txt");
    expect(() => trailing.url("k.txt", { contentType: "text/plain" })).toThrow(/without publicUrl/);
  });

  it("refuses response overrides on unsigned URLs, which S3 would not honour", () => {
    const storage = new S3Storage({ ...base, querystringAuth: false });
    expect(() => storage.url("a.txt", { download: "x.txt" })).toThrow(/querystringAuth/);
  });

  it("works with the SDK client's checksum settings untouched by URL signing", () => {
    const storage = new S3Storage({ ...base, clientConfig: checksumConfig("default") });
    expect(storage.url("a.txt").toLowerCase()).not.toContain("checksum");
  });
});

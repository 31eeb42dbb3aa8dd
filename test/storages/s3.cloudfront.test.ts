import { generateKeyPairSync, type KeyObject, verify } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import { attachmentDisposition } from "../../src/drivers/s3/S3UrlSigner";
import { StorageOperationError } from "../../src/errors/StorageOperationError";
import { S3Storage } from "../../src/storage/S3Storage";
import { configError } from "../support/configError";
import { s3Env } from "../support/s3";

const rsa = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});
const KEY_ID = "K2JCJMDEHXQW5F";

/** A CloudFront signed URL taken apart: the signed resource and the three parameters CloudFront appends. */
interface SignedUrl {
  resource: string;
  expires: number;
  keyPairId: string;
  signature: string;
}

function parseSignedUrl(url: string): SignedUrl {
  // CloudFront's parameters come last; everything before them is the resource the policy names.
  const at = url.search(/[?&]Expires=\d+&Key-Pair-Id=[^&]+&Signature=[^&]+$/);
  expect(at).toBeGreaterThan(0);
  const params = new URLSearchParams(url.slice(at + 1));
  return {
    resource: url.slice(0, at),
    expires: Number(params.get("Expires")),
    keyPairId: params.get("Key-Pair-Id") as string,
    signature: params.get("Signature") as string,
  };
}

/** Checks the signature as CloudFront does: the canned policy, SHA-1, and its URL-safe base64 undone. */
function verifiesAsCloudFront(url: string, publicKey: string | KeyObject = rsa.publicKey): boolean {
  const { resource, expires, signature } = parseSignedUrl(url);
  const policy = `{"Statement":[{"Resource":"${resource}","Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`;
  const bytes = Buffer.from(signature.replace(/-/g, "+").replace(/_/g, "=").replace(/~/g, "/"), "base64");
  return verify("sha1", Buffer.from(policy), publicKey, bytes);
}

describe("S3Storage CloudFront signed URLs", () => {
  const { endpoint, accessKey, secretKey } = s3Env();
  const base = { bucketName: "bkt", endpointUrl: endpoint, accessKey, secretKey, regionName: "us-east-1" };
  const cloudFront = {
    ...base,
    location: "media",
    customDomain: "cdn.example.com",
    cloudfrontKey: rsa.privateKey,
    cloudfrontKeyId: KEY_ID,
  };

  afterEach(() => jest.restoreAllMocks());

  it("signs custom-domain URLs with a canned policy that verifies with the key pair's public key", () => {
    const url = new S3Storage(cloudFront).url("docs/report.pdf");
    const signed = parseSignedUrl(url);
    expect(signed.resource).toBe("https://cdn.example.com/media/docs/report.pdf");
    expect(signed.keyPairId).toBe(KEY_ID);
    expect(verifiesAsCloudFront(url)).toBe(true);
    // The check is not vacuous: another resource or another expiry does not verify.
    expect(verifiesAsCloudFront(url.replace("report.pdf", "other.pdf"))).toBe(false);
    expect(verifiesAsCloudFront(url.replace(`Expires=${signed.expires}`, `Expires=${signed.expires + 1}`))).toBe(false);
  });

  it("accepts the key as an environment variable holding literal \\n sequences", () => {
    const fromEnv = rsa.privateKey.trim().replace(/\n/g, "\\n");
    expect(fromEnv).not.toContain("\n");
    const url = new S3Storage({ ...cloudFront, cloudfrontKey: fromEnv }).url("a.txt");
    expect(verifiesAsCloudFront(url)).toBe(true);
  });

  it("signs keys with unicode, spaces and reserved characters as the URL a browser will request", () => {
    const url = new S3Storage({ ...cloudFront, urlProtocol: "http:" }).url("odd/ä b+c (1)!.txt");
    const { resource } = parseSignedUrl(url);
    expect(resource).toBe("http://cdn.example.com/media/odd/%C3%A4%20b%2Bc%20(1)!.txt");
    // A browser sends the resource unchanged, so CloudFront compares the policy with the very same string.
    expect(new URL(resource).href).toBe(resource);
    expect(verifiesAsCloudFront(url)).toBe(true);
  });

  it("takes a querystringExpire beyond S3's 7 days, which only presigned S3 URLs are held to", () => {
    const month = 30 * 24 * 3600;
    const storage = new S3Storage({ ...cloudFront, querystringExpire: month });
    const before = Math.floor(Date.now() / 1000);
    expect(parseSignedUrl(storage.url("a.txt")).expires).toBeGreaterThanOrEqual(before + month);
    // the same custom domain without a CloudFront key presigns on S3, so the limit holds there
    const { cloudfrontKey: _key, cloudfrontKeyId: _id, ...presigning } = cloudFront;
    expect(configError(() => new S3Storage({ ...presigning, querystringExpire: month })).message).toContain(
      "querystringExpire must be an integer from 1 to 604800",
    );
  });

  it("expires after expiresIn (default querystringExpire) seconds, rounded up by at most a tenth", () => {
    const storage = new S3Storage({ ...cloudFront, querystringExpire: 1200 });
    const before = Math.floor(Date.now() / 1000);
    const byDefault = parseSignedUrl(storage.url("a.txt")).expires;
    const short = parseSignedUrl(storage.url("a.txt", { expiresIn: 60 })).expires;
    // Beyond S3's 7-day presign limit: CloudFront has none.
    const long = parseSignedUrl(storage.url("a.txt", { expiresIn: 30 * 24 * 3600 })).expires;
    const after = Math.ceil(Date.now() / 1000);
    expect(byDefault).toBeGreaterThanOrEqual(before + 1200);
    expect(byDefault).toBeLessThanOrEqual(after + 1200 + 120);
    expect(byDefault % 120).toBe(0);
    expect(short).toBeGreaterThanOrEqual(before + 60);
    expect(short).toBeLessThanOrEqual(after + 60 + 6);
    expect(long).toBeGreaterThanOrEqual(before + 30 * 24 * 3600);
    expect(long).toBeLessThanOrEqual(after + 30 * 24 * 3600 + 3600);
  });

  it("gives the same URL within an expiry window and a later one after it", () => {
    const storage = new S3Storage(cloudFront);
    const now = jest.spyOn(Date, "now");
    const start = Math.ceil(Date.parse("2030-01-01T00:00:00Z") / 360_000) * 360_000; // a window boundary
    now.mockReturnValue(start + 1000);
    const first = storage.url("a.txt");
    now.mockReturnValue(start + 300_000);
    expect(storage.url("a.txt")).toBe(first);
    expect(storage.url("b.txt")).not.toBe(first);
    now.mockReturnValue(start + 361_000);
    const next = storage.url("a.txt");
    expect(parseSignedUrl(next).expires).toBe(parseSignedUrl(first).expires + 360);
    expect(verifiesAsCloudFront(first)).toBe(true);
    expect(verifiesAsCloudFront(next)).toBe(true);
  });

  it("puts download and contentType overrides inside the signed URL", () => {
    const url = new S3Storage(cloudFront).url("docs/data.bin", {
      download: "Bericht ü.pdf",
      contentType: "application/pdf",
    });
    const { resource } = parseSignedUrl(url);
    expect(resource.startsWith("https://cdn.example.com/media/docs/data.bin?response-content-disposition=")).toBe(true);
    const query = new URL(resource).searchParams;
    expect(query.get("response-content-disposition")).toBe(attachmentDisposition("Bericht ü.pdf"));
    expect(query.get("response-content-disposition")).toBe(
      "attachment; filename=\"Bericht _.pdf\"; filename*=UTF-8''Bericht%20%C3%BC.pdf",
    );
    expect(query.get("response-content-type")).toBe("application/pdf");
    expect(verifiesAsCloudFront(url)).toBe(true);
    expect(verifiesAsCloudFront(url.replace("application%2Fpdf", "text%2Fhtml"))).toBe(false);
  });

  it("signs an attachment disposition with a content-type override a browser could run", () => {
    const url = new S3Storage(cloudFront).url("docs/picture.png", { contentType: "image/svg+xml" });
    const query = new URL(parseSignedUrl(url).resource).searchParams;
    expect(query.get("response-content-disposition")).toBe(attachmentDisposition("picture.png"));
    expect(query.get("response-content-type")).toBe("image/svg+xml");
    expect(verifiesAsCloudFront(url)).toBe(true);
  });

  it("calls a custom signer with the unsigned URL and the expiry, and returns what it returns", () => {
    const calls: Array<[string, Date]> = [];
    const storage = new S3Storage({
      ...base,
      location: "media",
      customDomain: "cdn.example.com/assets",
      cloudfrontSigner: (url, expiresAt) => {
        calls.push([url, expiresAt]);
        return `${url}${url.includes("?") ? "&" : "?"}signed=yes`;
      },
    });
    const before = Date.now();
    expect(storage.url("a b.txt", { expiresIn: 600, contentType: "text/plain" })).toBe(
      "https://cdn.example.com/assets/media/a%20b.txt?response-content-type=text%2Fplain&signed=yes",
    );
    expect(calls).toHaveLength(1);
    const [url, expiresAt] = calls[0] as [string, Date];
    expect(url).toBe("https://cdn.example.com/assets/media/a%20b.txt?response-content-type=text%2Fplain");
    expect(expiresAt).toBeInstanceOf(Date);
    expect(expiresAt.getTime()).toBeGreaterThanOrEqual(before + 600_000);
    expect(expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 660_000 + 1000);
    expect(expiresAt.getTime() % 1000).toBe(0);
  });

  it("wraps a custom signer's failure with its cause", () => {
    const failure = new Error("KMS unavailable");
    const storage = new S3Storage({
      ...base,
      customDomain: "cdn.example.com",
      cloudfrontSigner: () => {
        throw failure;
      },
    });
    let thrown: unknown;
    try {
      storage.url("a.txt");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StorageOperationError);
    expect((thrown as Error).cause).toBe(failure);
  });

  it("serves unsigned custom-domain URLs with cloudfrontSigner: null even when querystringAuth is on", () => {
    const storage = new S3Storage({
      ...base,
      location: "media",
      customDomain: "cdn.example.com",
      cloudfrontSigner: null,
    });
    expect(storage.url("a b.txt", { expiresIn: 60 })).toBe("https://cdn.example.com/media/a%20b.txt");
    let thrown: unknown;
    try {
      storage.url("a.txt", { download: "a.txt" });
    } catch (error) {
      thrown = error;
    }
    expect((thrown as Error).cause).toBeInstanceOf(RangeError);
    expect((thrown as Error).message).toContain("(cloudfrontKey + cloudfrontKeyId) instead of cloudfrontSigner: null");
  });

  it("keeps presigning at the S3 endpoint when a custom domain has no CloudFront configuration", () => {
    const storage = new S3Storage({ ...base, customDomain: "cdn.example.com", addressingStyle: "path" });
    expect(storage.url("a.txt").startsWith(`${endpoint}/bkt/a.txt?X-Amz-`)).toBe(true);
  });

  it("needs neither S3 credentials nor ready() to sign CloudFront URLs", async () => {
    let credentialCalls = 0;
    const client = new S3Client({
      region: "eu-west-1",
      credentials: async () => {
        credentialCalls++;
        throw new Error("no credentials here");
      },
    });
    const storage = new S3Storage({
      bucketName: "bkt",
      client,
      customDomain: "cdn.example.com",
      cloudfrontKey: rsa.privateKey,
      cloudfrontKeyId: KEY_ID,
    });
    expect(verifiesAsCloudFront(storage.url("a.txt"))).toBe(true);
    await storage.ready();
    expect(credentialCalls).toBe(0);
    client.destroy();
  });

  it("refuses an expiresIn that is not a positive whole number of seconds", () => {
    const storage = new S3Storage(cloudFront);
    for (const expiresIn of [0, 1.5, 20 * 365 * 24 * 3600]) {
      let thrown: unknown;
      try {
        storage.url("a.txt", { expiresIn });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(StorageOperationError);
      expect((thrown as Error).cause).toBeInstanceOf(RangeError);
      expect((thrown as Error).message).toContain("expiresIn must be an integer from 1 to");
    }
  });

  it("marks objects Cache-Control public when CloudFront signs or serves them, private only when S3 presigns", () => {
    const cacheControl = (extra: object) =>
      new S3Storage({ ...base, maxAgeSeconds: 600, ...extra }).getObjectParameters("a.txt").CacheControl;
    expect(
      cacheControl({ customDomain: "cdn.example.com", cloudfrontKey: rsa.privateKey, cloudfrontKeyId: KEY_ID }),
    ).toBe("public, max-age=600");
    expect(cacheControl({ customDomain: "cdn.example.com", cloudfrontSigner: null })).toBe("public, max-age=600");
    expect(cacheControl({ customDomain: "cdn.example.com" })).toBe("private, max-age=600");
    expect(cacheControl({ cloudfrontSigner: null })).toBe("private, max-age=600");
  });

  it("gives hashed static names maxAgeSecondsCached, immutable, and every other name maxAgeSeconds", () => {
    const storage = new S3Storage({ ...base, maxAgeSeconds: 600, maxAgeSecondsCached: 31536000 });
    const cacheControl = (name: string) => storage.getObjectParameters(name).CacheControl;
    expect(cacheControl("css/site.0123456789ab.css")).toBe("private, max-age=31536000, immutable");
    expect(cacheControl("css/site.css")).toBe("private, max-age=600");
    const onlyCached = new S3Storage({ ...base, querystringAuth: false, maxAgeSecondsCached: 60 });
    expect(onlyCached.getObjectParameters("LICENSE.0123456789ab").CacheControl).toBe("public, max-age=60, immutable");
    expect(onlyCached.getObjectParameters("LICENSE").CacheControl).toBeUndefined();
  });

  it("signs with an ECDSA P-256 key, which CloudFront also accepts", () => {
    const ec = generateKeyPairSync("ec", {
      namedCurve: "prime256v1",
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const url = new S3Storage({ ...cloudFront, cloudfrontKey: ec.privateKey }).url("a.txt");
    expect(verifiesAsCloudFront(url, ec.publicKey)).toBe(true);
  });
});

describe("S3Storage URL configuration errors", () => {
  const base = { bucketName: "bkt", regionName: "us-east-1" };
  const keyPair = { cloudfrontKey: rsa.privateKey, cloudfrontKeyId: KEY_ID };
  const encrypted = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "secret" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  }).privateKey;
  const ed25519 = generateKeyPairSync("ed25519", {
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  }).privateKey;
  const signer = (url: string) => url;

  it.each([
    ["publicUrl with querystringAuth", { publicUrl: "https://cdn.example.com/" }, "needs querystringAuth: false"],
    [
      "publicUrl with customDomain",
      { publicUrl: "https://cdn.example.com/", customDomain: "cdn.example.com", querystringAuth: false },
      "publicUrl and customDomain both set the URL host",
    ],
    [
      "publicUrl with a CloudFront key",
      { publicUrl: "https://cdn.example.com/", querystringAuth: false, ...keyPair },
      "publicUrl URLs are never signed",
    ],
    [
      "publicUrl that is not an absolute URL",
      { publicUrl: "cdn.example.com/media/", querystringAuth: false },
      "publicUrl must be an absolute URL",
    ],
    [
      "publicUrl with a query",
      { publicUrl: "https://cdn.example.com/?v=1", querystringAuth: false },
      "publicUrl must not have a query",
    ],
    [
      "a key without its id",
      { customDomain: "cdn.example.com", cloudfrontKey: rsa.privateKey },
      "cloudfrontKey and cloudfrontKeyId must be given together",
    ],
    [
      "an id without its key",
      { customDomain: "cdn.example.com", cloudfrontKeyId: KEY_ID },
      "cloudfrontKey and cloudfrontKeyId must be given together",
    ],
    ["a key without customDomain", keyPair, "CloudFront signing needs customDomain (AWS_S3_CUSTOM_DOMAIN)"],
    [
      "a key with querystringAuth false",
      { customDomain: "cdn.example.com", querystringAuth: false, ...keyPair },
      "CloudFront signing is configured but querystringAuth is false",
    ],
    [
      "a signer with querystringAuth false",
      { customDomain: "cdn.example.com", querystringAuth: false, cloudfrontSigner: signer },
      "CloudFront signing is configured but querystringAuth is false",
    ],
    [
      "a key and a signer",
      { customDomain: "cdn.example.com", ...keyPair, cloudfrontSigner: signer },
      "either cloudfrontKey + cloudfrontKeyId or cloudfrontSigner",
    ],
    [
      "a key and cloudfrontSigner: null",
      { customDomain: "cdn.example.com", ...keyPair, cloudfrontSigner: null },
      "either cloudfrontKey + cloudfrontKeyId or cloudfrontSigner",
    ],
    [
      "a signer that is not a function",
      { customDomain: "cdn.example.com", cloudfrontSigner: "sign" },
      "cloudfrontSigner must be a function",
    ],
    [
      "an empty key id",
      { customDomain: "cdn.example.com", cloudfrontKey: rsa.privateKey, cloudfrontKeyId: "" },
      "cloudfrontKeyId must be a non-empty string",
    ],
    [
      "an encrypted key",
      { customDomain: "cdn.example.com", cloudfrontKey: encrypted, cloudfrontKeyId: KEY_ID },
      "is encrypted; it must be the unencrypted private key",
    ],
    [
      "the public key instead of the private one",
      { customDomain: "cdn.example.com", cloudfrontKey: rsa.publicKey, cloudfrontKeyId: KEY_ID },
      "is a public key",
    ],
    [
      "a key type CloudFront does not accept",
      { customDomain: "cdn.example.com", cloudfrontKey: ed25519, cloudfrontKeyId: KEY_ID },
      "has key type ed25519; CloudFront signs URLs only with RSA 2048 or ECDSA P-256",
    ],
  ])("refuses %s at construction, saying what to fix", (_name, extra, message) => {
    const error = configError(() => new S3Storage({ ...base, ...(extra as object) }));
    expect(error.message).toContain(message);
    expect(error.code).toBe("STORAGE_CONFIG");
  });

  it("refuses a key that is not PEM, with the parser's error as cause and how to paste it", () => {
    const error = configError(
      () =>
        new S3Storage({
          ...base,
          customDomain: "cdn.example.com",
          cloudfrontKey: "MIIEvQIBADAN",
          cloudfrontKeyId: KEY_ID,
        }),
    );
    expect(error.message).toContain("cloudfrontKey (AWS_CLOUDFRONT_KEY) is not a PEM private key");
    expect(error.message).toContain("newlines may be written as \\n");
    // OpenSSL's decoder error, from Node's realm (so not instanceof this realm's Error).
    expect((error.cause as { code?: string }).code).toMatch(/^ERR_OSSL_/);
  });
});

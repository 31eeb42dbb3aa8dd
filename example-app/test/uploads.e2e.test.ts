import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { GetBucketCorsCommand, PutBucketCorsCommand, S3Client } from "@aws-sdk/client-s3";
import type { Browser, BrowserContext, Page, Response } from "playwright-core";
import { getValidName } from "typeorm-storages";
import { formatBytes } from "../src/receiveUpload";
import { type AppProcess, startApp } from "./support/appProcess";
import { launchChromium } from "./support/browser";
import { gradientPng, tinyPdf } from "./support/fixtures";
import { diskProbe, type StorageProbe, s3Probe } from "./support/storageProbe";

/** Screenshots land here (git-ignored); curated copies are committed as docs/upload.png and docs/list.png. */
const SHOTS = path.join(__dirname, "..", "..", "test-results", "example-app");
const MAX_BYTES = 64 * 1024;
const EXPIRE_SECONDS = 3;

interface Backend {
  name: string;
  /** Only one backend writes the screenshots. */
  screenshots: boolean;
  /** The server checks signatures and expiry, so tampered, expired and unsigned links can be refused. */
  checksSignatures: boolean;
  /** The bucket lives on a shared server: remove it afterwards. */
  removeBucket?: boolean;
  env(): Record<string, string>;
  probe(app: AppProcess): StorageProbe;
}

const common = { UPLOAD_MAX_BYTES: String(MAX_BYTES) };

const disk: Backend = {
  name: "local disk",
  screenshots: true,
  checksSignatures: true,
  env: () => ({
    ...common,
    PRIVATE_MEDIA_EXPIRE: String(EXPIRE_SECONDS),
    STORAGES_SIGNING_SECRET: randomBytes(32).toString("hex"),
  }),
  probe: (app) => diskProbe(app.dataDir),
};

const embeddedS3: Backend = {
  name: "the embedded S3 server (EMBEDDED_S3=1)",
  screenshots: false,
  checksSignatures: false,
  env: () => ({ ...common, EMBEDDED_S3: "1" }),
  probe: (app) => {
    const endpoint = /at (http:\/\/\S+) \(embedded s3rver\)/.exec(app.output())?.[1];
    if (!endpoint) throw new Error(`No embedded S3 endpoint in the app's output:\n${app.output()}`);
    return s3Probe({ endpoint, bucket: "example-media", accessKey: "S3RVER", secretKey: "S3RVER" });
  },
};

const { S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_STRICT } = process.env;
const strictBucket = `example-app-${randomBytes(4).toString("hex")}`;
const strictS3: Backend | null =
  S3_ENDPOINT && S3_ACCESS_KEY && S3_SECRET_KEY && S3_STRICT === "1"
    ? {
        name: `the strict S3 server at ${S3_ENDPOINT} (AWS_DEFAULT_ACL=public-read)`,
        screenshots: false,
        checksSignatures: true,
        removeBucket: true,
        env: () => ({
          ...common,
          USE_S3: "true",
          CREATE_BUCKET: "1",
          AWS_STORAGE_BUCKET_NAME: strictBucket,
          AWS_S3_ENDPOINT_URL: S3_ENDPOINT,
          AWS_S3_REGION_NAME: "us-east-1",
          AWS_S3_ADDRESSING_STYLE: "path",
          AWS_ACCESS_KEY_ID: S3_ACCESS_KEY,
          AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY,
          AWS_DEFAULT_ACL: "public-read",
          AWS_QUERYSTRING_EXPIRE: String(EXPIRE_SECONDS),
        }),
        probe: () =>
          s3Probe({ endpoint: S3_ENDPOINT, bucket: strictBucket, accessKey: S3_ACCESS_KEY, secretKey: S3_SECRET_KEY }),
      }
    : null;

const PNG = gradientPng(96, [47, 91, 234], [250, 180, 90]);
const PDF = tinyPdf("Quarterly report");

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
  fs.mkdirSync(SHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
});

/** Fills and submits the upload form; resolves with the POST's response once the next page has loaded. */
async function upload(
  page: Page,
  app: AppProcess,
  form: { title: string; visibility?: "public" | "private"; file?: { name: string; mimeType: string; buffer: Buffer } },
  screenshot?: string,
): Promise<Response> {
  await page.goto(`${app.url}/upload`);
  await page.fill("#title", form.title);
  await page.check(`input[name=visibility][value=${form.visibility ?? "public"}]`);
  if (form.file) await page.setInputFiles("#file", form.file);
  if (screenshot) await page.screenshot({ path: path.join(SHOTS, screenshot), fullPage: true });
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/upload"),
    page.click("button[type=submit]"),
  ]);
  await page.waitForLoadState("load");
  return response;
}

/** The list item of the upload titled `title`. */
const item = (page: Page, title: string) => page.locator("li.upload", { has: page.locator("h2", { hasText: title }) });

function withSkip(enabled: boolean, reason: string) {
  return (name: string, fn: () => Promise<void>) => (enabled ? test(name, fn) : test.skip(`${name} (${reason})`, fn));
}

describe.each([disk, embeddedS3])("the example app on $name", (backend) => suite(backend));
if (strictS3) describe("the example app on a strict S3 server", () => suite(strictS3));
else {
  describe.skip("the example app on a strict S3 server (needs S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY and S3_STRICT=1: CI's Ceph RGW pass)", () => {
    test("runs the same browser tests with AWS_DEFAULT_ACL=public-read", () => undefined);
  });
}

describe("in production (NODE_ENV=production)", () => {
  test("refuses to start without STORAGES_SIGNING_SECRET, even on S3, saying what to set", async () => {
    await expect(startApp({ ...embeddedS3.env(), NODE_ENV: "production" })).rejects.toThrow(
      /exited with code 1 before listening:[\s\S]*Could not start the example app: Direct uploads need a signing secret[\s\S]*set STORAGES_SIGNING_SECRET/,
    );
  });

  test("starts with it", async () => {
    const secret = randomBytes(32).toString("hex");
    const app = await startApp({ ...embeddedS3.env(), NODE_ENV: "production", STORAGES_SIGNING_SECRET: secret });
    try {
      expect((await fetch(app.url)).status).toBe(200);
    } finally {
      await app.stop();
    }
  });
});

describe("the bucket CREATE_BUCKET or EMBEDDED_S3 sets up", () => {
  const endpointOf = (app: AppProcess) => /at (http:\/\/\S+) \(embedded s3rver\)/.exec(app.output())?.[1] as string;
  const client = (endpoint: string) =>
    new S3Client({
      endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });

  test("gets a CORS rule for the app's own origin when created, and an existing bucket keeps its rules", async () => {
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "example-app-cors-"));
    const env = { ...embeddedS3.env(), PORT: String(port), DATA_DIR: dataDir };
    const mine = {
      AllowedOrigins: ["https://my-site.example"],
      AllowedMethods: ["PUT"],
      AllowedHeaders: ["*"],
      ExposeHeaders: ["ETag"],
      MaxAgeSeconds: 60,
    };
    try {
      let app = await startApp(env);
      let s3 = client(endpointOf(app));
      try {
        const { CORSRules } = await s3.send(new GetBucketCorsCommand({ Bucket: "example-media" }));
        expect(CORSRules?.map((rule) => rule.AllowedOrigins)).toEqual([
          [`http://127.0.0.1:${port}`, `http://localhost:${port}`],
        ]);
        await s3.send(new PutBucketCorsCommand({ Bucket: "example-media", CORSConfiguration: { CORSRules: [mine] } }));
      } finally {
        s3.destroy();
        await app.stop();
      }
      app = await startApp(env); // the same DATA_DIR: s3rver finds the bucket it keeps there
      s3 = client(endpointOf(app));
      try {
        const { CORSRules } = await s3.send(new GetBucketCorsCommand({ Bucket: "example-media" }));
        expect(CORSRules?.map((rule) => rule.AllowedOrigins)).toEqual([mine.AllowedOrigins]);
      } finally {
        s3.destroy();
        await app.stop();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const s3Backends = [embeddedS3, ...(strictS3 ? [strictS3] : [])];
describe.each(s3Backends)("direct uploads in parts on $name", (backend) => {
  let app: AppProcess;
  let probe: StorageProbe;
  beforeAll(async () => {
    app = await startApp({
      ...backend.env(),
      UPLOAD_MAX_BYTES: String(16 * 1024 * 1024),
      DIRECT_UPLOAD_PART_SIZE: String(5 * 1024 * 1024),
    });
    probe = backend.probe(app);
  });
  afterAll(async () => {
    await app?.stop();
    if (backend.removeBucket) await probe?.removeAll();
    probe?.close();
  });

  test("sends a file over one part in parts, three at a time, and the app joins them", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen: { method: string; url: string; status: number }[] = [];
    page.on("response", (r) => seen.push({ method: r.request().method(), url: r.url(), status: r.status() }));
    const bytes = randomBytes(11 * 1024 * 1024 + 321);
    await page.goto(`${app.url}/upload/direct`);
    await page.fill("#title", "Long recording");
    await page.setInputFiles("#file", { name: "recording.bin", mimeType: "application/octet-stream", buffer: bytes });
    await Promise.all([page.waitForURL(/\/#upload-\d+$/), page.click("button[type=submit]")]);
    const puts = seen.filter((r) => r.method === "PUT");
    expect(puts.map((r) => new URL(r.url).searchParams.get("partNumber")).sort()).toEqual(["1", "2", "3"]);
    expect(puts.every((r) => r.status === 200)).toBe(true);
    await expectText(page, `${itemSelector("Long recording")} .size`, formatBytes(bytes.length));
    const href = await fileLink(page, "Long recording");
    const served = await context.request.get(href);
    expect(served.status()).toBe(200);
    expect((await served.body()).equals(bytes)).toBe(true);
    await context.close();
  });
});

function suite(backend: Backend): void {
  let app: AppProcess;
  let probe: StorageProbe;
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];
  const violations: string[] = [];
  const signatureTest = withSkip(backend.checksSignatures, "s3rver verifies no signatures and no expiry");

  beforeAll(async () => {
    app = await startApp(backend.env());
    probe = backend.probe(app);
    context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
    page = await context.newPage();
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });
  afterAll(async () => {
    await context?.close();
    await app?.stop();
    if (backend.removeBucket) await probe?.removeAll();
    probe?.close();
  });

  test("shows the empty list and the upload form with public and private choices", async () => {
    await page.goto(app.url);
    await expectText(page, "#empty", "Nothing uploaded yet");
    await page.goto(`${app.url}/upload`);
    expect(
      await page.locator("input[name=visibility]").evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value)),
    ).toEqual(["public", "private"]);
  });

  test("answers its own pages with security headers (CSP, no framing, no caching), not the files", async () => {
    const headers = (await context.request.get(`${app.url}/upload/direct`)).headers();
    const csp = headers["content-security-policy"];
    expect(csp).toMatch(/^default-src 'none'; script-src http:\/\/\S+\/static\/direct-upload\.[0-9a-f]{12}\.js; /);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).not.toContain("*");
    expect(headers).toMatchObject({
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "same-origin",
      "cache-control": "no-store",
    });
    const href = await context.request.get(app.url).then(async (r) => /href="([^"]+\.css)"/.exec(await r.text())?.[1]);
    const stylesheet = await context.request.get(new URL(href as string, app.url).href);
    expect(stylesheet.status()).toBe(200);
    expect(stylesheet.headers()["content-security-policy"]).toBeUndefined();
    expect(stylesheet.headers()["cache-control"]).not.toBe("no-store");
  });

  test("links its stylesheet by hashed name from the staticfiles storage, and the logo the stylesheet names loads", async () => {
    const statuses = new Map<string, number>();
    const onResponse = (r: Response) => statuses.set(r.url(), r.status());
    page.on("response", onResponse);
    await page.goto(app.url);
    const href = await page.locator("link[rel=stylesheet]").evaluate((el) => (el as HTMLLinkElement).href);
    expect(new URL(href).pathname).toMatch(/\/static\/app\.[0-9a-f]{12}\.css$/);
    // the stylesheet applied: the header's logo is its background, by the name collectstatic rewrote it to
    const background = await page.locator(".brand").evaluate((el) => getComputedStyle(el).backgroundImage);
    const logo = /^url\("(.+)"\)$/.exec(background)?.[1] as string;
    expect(new URL(logo).pathname).toMatch(/\/static\/logo\.[0-9a-f]{12}\.svg$/);
    for (let i = 0; i < 50 && !statuses.has(logo); i++) await page.waitForTimeout(100);
    page.off("response", onResponse);
    // 304 once an earlier page loaded them: the browser's copy is still the storage's
    expect([200, 304]).toContain(statuses.get(logo));
    expect([200, 304]).toContain(statuses.get(href));
    const fetched = await page.request.get(logo);
    expect(fetched.status()).toBe(200);
    expect(fetched.headers()["content-type"]).toBe("image/svg+xml");
    expect(await fetched.text()).toContain("<title>typeorm-storages</title>");
  });

  test("uploads a public PNG, and the list's <img> loads the same bytes from the storage", async () => {
    const images = new Map<string, Promise<Buffer>>();
    const onResponse = (r: Response) => {
      // the header's logo comes back 304 on later pages (revalidated), which has no body
      if (r.request().resourceType() === "image" && r.status() === 200) images.set(r.url(), r.body());
    };
    page.on("response", onResponse);
    const response = await upload(
      page,
      app,
      {
        title: "Sunset gradient",
        visibility: "public",
        file: { name: "sunset.png", mimeType: "image/png", buffer: PNG },
      },
      backend.screenshots ? "upload.png" : undefined,
    );
    page.off("response", onResponse);
    expect(response.status()).toBe(303);
    expect(new URL(page.url()).pathname).toBe("/");

    const img = item(page, "Sunset gradient").locator("img");
    const src = await img.evaluate((el) => (el as HTMLImageElement).currentSrc);
    expect(await img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(96);
    expect(src).toMatch(/\/media\/uploads\/\d{4}\/\d{2}\/sunset\.png$/);
    expect(new URL(src).search).toBe(""); // public media: a plain, unsigned URL
    const loaded = images.get(src);
    expect(loaded).toBeDefined();
    expect((await loaded)?.equals(PNG)).toBe(true);
    await expectText(page, `${itemSelector("Sunset gradient")} .size`, formatBytes(PNG.length));
    await expectText(page, `${itemSelector("Sunset gradient")} .type`, "image/png");
    expect(await probe.exists(src)).toBe(true);
  });

  test("uploads a private PDF, and its signed link serves it", async () => {
    const response = await upload(page, app, {
      title: "Quarterly report",
      visibility: "private",
      file: { name: "report.pdf", mimeType: "application/pdf", buffer: PDF },
    });
    expect(response.status()).toBe(303);
    const href = await fileLink(page, "Quarterly report");
    expect(href).toMatch(/\/private(-media)?\/uploads\/\d{4}\/\d{2}\/report\.pdf\?/);
    const served = await context.request.get(href);
    expect(served.status()).toBe(200);
    expect(served.headers()["content-type"]).toMatch(/^application\/pdf/);
    expect((await served.body()).equals(PDF)).toBe(true);
    await expectText(page, `${itemSelector("Quarterly report")} .type`, "application/pdf");
    if (backend.screenshots) await page.screenshot({ path: path.join(SHOTS, "list.png"), fullPage: true });
  });

  signatureTest("refuses a tampered private link, the unsigned address, and the signed link once expired", async () => {
    await page.goto(app.url);
    const href = await fileLink(page, "Quarterly report");
    const url = new URL(href);
    const signatureParam = url.searchParams.has("signature") ? "signature" : "X-Amz-Signature";
    const signature = url.searchParams.get(signatureParam) as string;
    const tampered = new URL(href);
    tampered.searchParams.set(signatureParam, `${signature.slice(0, -2)}${signature.endsWith("AA") ? "BB" : "AA"}`);
    expect((await context.request.get(tampered.href)).status()).toBe(403);
    expect((await context.request.get(`${url.origin}${url.pathname}`)).status()).toBe(403);
    expect((await context.request.get(href)).status()).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, (EXPIRE_SECONDS + 2) * 1000));
    expect((await context.request.get(href)).status()).toBe(403);
  });

  /** Submits the direct-upload form; resolves with every request the page made meanwhile. */
  async function directUpload(
    form: { title: string; visibility: "public" | "private"; file: { name: string; mimeType: string; buffer: Buffer } },
    outcome: "listed" | "refused",
  ): Promise<{ method: string; url: string; status: number }[]> {
    const seen: { method: string; url: string; status: number }[] = [];
    const onResponse = (r: Response) => seen.push({ method: r.request().method(), url: r.url(), status: r.status() });
    page.on("response", onResponse);
    await page.goto(`${app.url}/upload/direct`);
    await page.fill("#title", form.title);
    await page.check(`input[name=visibility][value=${form.visibility}]`);
    await page.setInputFiles("#file", form.file);
    if (outcome === "listed") await Promise.all([page.waitForURL(/\/#upload-\d+$/), page.click("button[type=submit]")]);
    else await Promise.all([page.waitForSelector("#error"), page.click("button[type=submit]")]);
    page.off("response", onResponse);
    return seen;
  }

  test("sends a file straight to the storage from the direct-upload page: the app sees none of its bytes", async () => {
    const seen = await directUpload(
      {
        title: "Direct contract",
        visibility: "private",
        file: { name: "direct contract.pdf", mimeType: "application/pdf", buffer: PDF },
      },
      "listed",
    );
    const puts = seen.filter((r) => r.method === "PUT");
    expect(puts).toHaveLength(1);
    expect(puts[0].status).toBe(200);
    expect(new URL(puts[0].url).pathname).toMatch(/\/uploads\/\d{4}\/\d{2}\/direct_contract_[A-Za-z0-9]{16}\.pdf$/);
    // the app got two small JSON posts, no multipart body
    expect(seen.filter((r) => r.method === "POST").map((r) => new URL(r.url).pathname)).toEqual([
      "/uploads/direct",
      "/uploads/direct/complete",
    ]);
    const href = await fileLink(page, "Direct contract");
    expect(href).toMatch(/\/private(-media)?\/uploads\/\d{4}\/\d{2}\/direct_contract_[A-Za-z0-9]{16}\.pdf\?/);
    const served = await context.request.get(href);
    expect(served.status()).toBe(200);
    expect((await served.body()).equals(PDF)).toBe(true);
    await expectText(page, `${itemSelector("Direct contract")} .size`, formatBytes(PDF.length));
    await expectText(page, `${itemSelector("Direct contract")} .type`, "application/pdf");
    expect(await probe.exists(href)).toBe(true);
  });

  test("shows a directly uploaded public image from its plain URL", async () => {
    await directUpload(
      {
        title: "Direct gradient",
        visibility: "public",
        file: { name: "direct.png", mimeType: "image/png", buffer: PNG },
      },
      "listed",
    );
    const img = item(page, "Direct gradient").locator("img");
    await img.evaluate((el) => (el as HTMLImageElement).decode());
    expect(await img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(96);
    expect(new URL(await img.evaluate((el) => (el as HTMLImageElement).currentSrc)).search).toBe("");
  });

  test("refuses a direct upload over the limit before a byte is sent, and a forged ticket", async () => {
    const before = (await probe.keys()).sort();
    const seen = await directUpload(
      {
        title: "Direct too big",
        visibility: "public",
        file: { name: "big.bin", mimeType: "application/octet-stream", buffer: randomBytes(MAX_BYTES + 1) },
      },
      "refused",
    );
    expect((await page.locator("#error").textContent())?.trim()).toBe(
      "The file is larger than the limit of 64 KiB; nothing was stored.",
    );
    expect(seen.filter((r) => r.method === "PUT")).toEqual([]);
    const forged = await page.request.post(`${app.url}/uploads/direct/complete`, {
      headers: { Origin: app.url },
      data: { title: "Forged", visibility: "public", ticket: "ut1.eyJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
    });
    expect(forged.status()).toBe(400);
    expect((await forged.json()).error).toMatch(/not issued by this server/);
    expect((await probe.keys()).sort()).toEqual(before);
    await page.goto(app.url);
    expect(await item(page, "Forged").count()).toBe(0);
  });

  test("serves only its own Host (DNS rebinding) and takes posts only from its own origins (CSRF)", async () => {
    const { port } = new URL(app.url);
    const send = (path: string, headers: Record<string, string>, method = "GET") =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = http.request(`${app.url}${path}`, { method, headers }, (response) => {
          let body = "";
          response.setEncoding("utf8").on("data", (chunk) => {
            body += chunk;
          });
          response.on("end", () => resolve({ status: response.statusCode as number, body }));
        });
        request.once("error", reject).end();
      });
    expect((await send("/", { Host: `rebound.example:${port}` })).status).toBe(400);
    expect((await send("/", { Host: `127.0.0.1:${Number(port) + 1}` })).status).toBe(400);
    expect((await send("/", { Host: `localhost:${port}` })).status).toBe(200);
    // a page of the rebound name would post with an Origin matching its Host: both refused
    const rebound = await send(
      "/uploads/0/delete",
      { Host: `rebound.example:${port}`, Origin: `http://rebound.example:${port}` },
      "POST",
    );
    expect(rebound.status).toBe(400);
    const crossSite = await send("/uploads/0/delete", { Origin: "http://evil.example" }, "POST");
    expect(crossSite).toEqual({ status: 403, body: "Forbidden: cross-site form submission." });
    expect((await send("/uploads/0/delete", { Origin: "null" }, "POST")).status).toBe(403);
    // either default origin is the app's own, whichever Host the request names
    const own = await send(
      "/uploads/0/delete",
      { Host: `127.0.0.1:${port}`, Origin: `http://localhost:${port}` },
      "POST",
    );
    expect(own.status).toBe(303);
  });

  test("answers a JSON body it refuses (too large, an unsupported charset) with JSON and its 4xx status", async () => {
    const tooLarge = await page.request.post(`${app.url}/uploads/direct`, {
      headers: { Origin: app.url, "Content-Type": "application/json" },
      data: JSON.stringify({ title: "x".repeat(20 * 1024), visibility: "public", filename: "a.txt", size: 1 }),
    });
    expect(tooLarge.status()).toBe(413);
    expect(await tooLarge.json()).toEqual({ error: "The request's body is larger than 16 KiB." });
    const charset = await page.request.post(`${app.url}/uploads/direct/complete`, {
      headers: { Origin: app.url, "Content-Type": "application/json; charset=iso-8859-1" },
      data: JSON.stringify({ title: "Charset", visibility: "public", ticket: "x" }),
    });
    expect(charset.status()).toBe(415);
    expect((await charset.json()).error).toMatch(/unsupported charset "ISO-8859-1"/);
  });

  test("keeps the first 255 characters of a long file name, and refuses a NUL in the title or a file name", async () => {
    // the characters the cleaned name drops keep its key short (s3rver keeps each object in a file)
    const long = `${"*".repeat(300)}long.txt`;
    const stored = await page.request.post(`${app.url}/upload`, {
      headers: { Origin: app.url },
      multipart: {
        title: "Long name",
        visibility: "public",
        file: { name: long, mimeType: "text/plain", buffer: Buffer.from("long") },
      },
      maxRedirects: 0,
    });
    expect(stored.status()).toBe(303);
    await page.goto(app.url);
    expect(await item(page, "Long name").locator(".original").textContent()).toBe(long.slice(0, 255));

    const before = (await probe.keys()).sort();
    const file = { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hi") };
    // a NUL cannot stand in a header as is; RFC 5987's filename* carries it percent-encoded
    const withNulName = [
      "--b",
      'Content-Disposition: form-data; name="title"',
      "",
      "Nul name",
      "--b",
      'Content-Disposition: form-data; name="visibility"',
      "",
      "public",
      "--b",
      "Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''a%00b.txt",
      "Content-Type: text/plain",
      "",
      "hi",
      "--b--",
      "",
    ].join("\r\n");
    const refusals = [
      {
        options: { multipart: { title: "Nul\0title", visibility: "public", file } },
        message: /^The title contains a NUL/,
      },
      {
        options: { data: withNulName, headers: { "Content-Type": "multipart/form-data; boundary=b" } },
        message: /^The file name contains a NUL character/,
      },
    ];
    for (const { options, message } of refusals) {
      const headers = { Origin: app.url, ...("headers" in options ? options.headers : {}) };
      const refused = await page.request.post(`${app.url}/upload`, { ...options, headers });
      expect(refused.status()).toBe(400);
      expect(/id="error">\s*([^<]*)/.exec(await refused.text())?.[1]).toMatch(message);
    }
    const direct = await page.request.post(`${app.url}/uploads/direct`, {
      headers: { Origin: app.url },
      data: { title: "Nul direct", visibility: "public", filename: "a\0b.txt", size: 2 },
    });
    expect(direct.status()).toBe(400);
    expect((await direct.json()).error).toMatch(/^The file name contains a NUL character/);
    const complete = await page.request.post(`${app.url}/uploads/direct/complete`, {
      headers: { Origin: app.url },
      data: { title: "Nul\0direct", visibility: "public", ticket: "x" },
    });
    expect(complete.status()).toBe(400);
    expect((await complete.json()).error).toMatch(/^The title contains a NUL character/);
    expect((await probe.keys()).sort()).toEqual(before);
  });

  test("stores a hostile filename under its cleaned name and shows the original escaped", async () => {
    const hostile = "<img src=x onerror=alert(1)> été ;rm -rf.png";
    const title = `<script>alert("title")</script> Hostile`;
    const response = await upload(page, app, {
      title,
      visibility: "public",
      file: { name: hostile, mimeType: "image/png", buffer: PNG },
    });
    expect(response.status()).toBe(303);
    const cleaned = getValidName(hostile);
    expect(cleaned).toBe("img_srcx_onerroralert1_été_rm_-rf.png");
    const row = item(page, "Hostile");
    expect(await row.locator("h2").textContent()).toBe(title);
    expect(await row.locator(".file-link").textContent()).toBe(cleaned);
    expect(await row.locator(".original").textContent()).toBe(hostile);
    const href = await row.locator(".file-link").evaluate((el) => (el as HTMLAnchorElement).href);
    expect(decodeURIComponent(new URL(href).pathname)).toMatch(
      /\/uploads\/\d{4}\/\d{2}\/img_srcx_onerroralert1_été_rm_-rf\.png$/,
    );
    expect(await probe.exists(href)).toBe(true);
    expect(dialogs).toEqual([]); // neither the title nor the filename ran as markup
  });

  test("deleting an upload removes its row and, after the commit, its object", async () => {
    await page.goto(app.url);
    const src = await item(page, "Sunset gradient")
      .locator("img")
      .evaluate((el) => (el as HTMLImageElement).currentSrc);
    expect(await probe.exists(src)).toBe(true);
    await Promise.all([page.waitForURL(`${app.url}/`), item(page, "Sunset gradient").locator("button.delete").click()]);
    expect(await item(page, "Sunset gradient").count()).toBe(0);
    expect(await item(page, "Quarterly report").count()).toBe(1);
    expect(await probe.exists(src)).toBe(false);
  });

  const badInputs: {
    name: string;
    form: { title: string; file?: { name: string; mimeType: string; buffer: Buffer } };
    status: number;
    message: RegExp;
  }[] = [
    { name: "no file", form: { title: "Nothing chosen" }, status: 400, message: /^Choose a file to upload\.$/ },
    {
      name: "an empty file",
      form: { title: "Empty", file: { name: "empty.txt", mimeType: "text/plain", buffer: Buffer.alloc(0) } },
      status: 400,
      message: /^"empty\.txt" is empty \(0 bytes\); choose a file with some content\.$/,
    },
    {
      name: "a file over the limit (aborted mid-stream)",
      form: {
        title: "Too big",
        file: { name: "big.bin", mimeType: "application/octet-stream", buffer: randomBytes(MAX_BYTES * 4) },
      },
      status: 413,
      message: /^The file is larger than the limit of 64 KiB; nothing was stored\.$/,
    },
    {
      name: "a file one byte over the limit",
      form: {
        title: "Just over",
        file: { name: "edge.bin", mimeType: "application/octet-stream", buffer: randomBytes(MAX_BYTES + 1) },
      },
      status: 413,
      message: /larger than the limit of 64 KiB/,
    },
    {
      name: "a filename with no usable characters",
      form: { title: "Stars", file: { name: "***", mimeType: "text/plain", buffer: Buffer.from("hi") } },
      status: 400,
      message: /^The file name "\*\*\*" has no usable characters; rename the file and retry\.$/,
    },
    {
      name: "no title",
      form: { title: "", file: { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hi") } },
      status: 400,
      message: /^Give the upload a title\.$/,
    },
  ];

  test.each(badInputs)("refuses $name with a clear message and stores nothing", async ({ form, status, message }) => {
    const before = (await probe.keys()).sort();
    await page.goto(app.url);
    const rows = await page.locator("li.upload").count();
    if (form.title === "") {
      // The browser would refuse an empty required field itself; remove the attribute to test the server.
      await page.goto(`${app.url}/upload`);
      await page.locator("#title").evaluate((el) => el.removeAttribute("required"));
      if (form.file) await page.setInputFiles("#file", form.file);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === "POST"),
        page.click("button[type=submit]"),
      ]);
      expect(response.status()).toBe(status);
    } else {
      const screenshot =
        backend.screenshots && status === 413 && form.title === "Too big" ? "upload-error.png" : undefined;
      const response = await upload(page, app, { ...form, visibility: "public" });
      expect(response.status()).toBe(status);
      if (screenshot) await page.screenshot({ path: path.join(SHOTS, screenshot), fullPage: true });
    }
    expect((await page.locator("#error").textContent())?.trim()).toMatch(message);
    expect((await probe.keys()).sort()).toEqual(before);
    await page.goto(app.url);
    expect(await page.locator("li.upload").count()).toBe(rows);
  });

  test("loaded every page's script, stylesheet, images and uploads within its Content-Security-Policy", () => {
    expect(violations).toEqual([]);
  });
}

const itemSelector = (title: string) => `li.upload:has(h2:text-is("${title}"))`;

async function fileLink(page: Page, title: string): Promise<string> {
  return item(page, title)
    .locator(".file-link")
    .evaluate((el) => (el as HTMLAnchorElement).href);
}

async function expectText(page: Page, selector: string, text: string): Promise<void> {
  expect(await page.locator(selector).first().textContent()).toContain(text);
}

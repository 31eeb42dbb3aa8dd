import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { S3StorageOptions } from "../../src/drivers/s3/S3StorageOptions";
import { FileNotFoundError } from "../../src/errors/FileNotFoundError";
import { StorageConfigError } from "../../src/errors/StorageConfigError";
import { StorageOperationError } from "../../src/errors/StorageOperationError";
import { S3Storage } from "../../src/storage/S3Storage";
import { configError } from "../support/configError";
import {
  selfSignedCertificate,
  startForwardProxy,
  startTlsReverseProxy,
  type TestCertificate,
  type TestForwardProxy,
  type TestServer,
} from "../support/proxyServers";
import {
  captureRequests,
  createTestBucket,
  deleteTestBucket,
  describeStrict,
  makeS3Storage,
  s3Env,
} from "../support/s3";

const MiB = 1024 * 1024;

/** Sets environment variables (undefined deletes) and returns a function restoring the previous values. */
function setEnv(values: Record<string, string | undefined>): () => void {
  const previous = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const apply = (next: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(next)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(values);
  return () => apply(previous);
}

/** Where a request was about to go. */
interface Destination {
  protocol: string;
  hostname: string;
  path: string;
}

/**
 * Records where each request of `client` would go, then fails it before anything is sent (SDK middleware
 * after signing): for AWS endpoints, which these tests must never reach.
 */
function stopBeforeSending(client: S3Client): Destination[] {
  const destinations: Destination[] = [];
  client.middlewareStack.add(
    () => async (args) => {
      const { protocol, hostname, path } = args.request as Destination;
      destinations.push({ protocol, hostname, path });
      throw new Error("stopped before sending");
    },
    { step: "finalizeRequest", priority: "low", name: "stopBeforeSending" },
  );
  return destinations;
}

/** Saves, reads back and deletes one object: the storage really talks to its server. */
async function roundTrip(storage: S3Storage, body: string | Buffer = "hello through the connection"): Promise<void> {
  const key = await storage.save(`connection/${Math.random().toString(36).slice(2)}.bin`, body);
  expect(Buffer.compare(await storage.read(key), Buffer.from(body))).toBe(0);
  await storage.delete(key);
}

/**
 * Node's TLS error is the cause. Under Jest it comes from another realm, so the SDK's retry layer
 * re-wraps it ("AWS SDK error wrapper for Error: …") and its `code` (DEPTH_ZERO_SELF_SIGNED_CERT) is lost;
 * in an application the cause is Node's error itself.
 */
function expectTlsRefusal(error: unknown): void {
  expect(error).toBeInstanceOf(StorageOperationError);
  const cause = (error as Error).cause as NodeJS.ErrnoException;
  expect(cause.message).toContain("self-signed certificate");
  if (cause.code !== undefined) expect(cause.code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
}

describe("S3Storage connection options: validation", () => {
  it("refuses signatureVersion s3, explaining that SigV2 is retired", () => {
    const error = configError(() => new S3Storage({ bucketName: "b", signatureVersion: "s3" }));
    expect(error.message).toContain("AWS retired Signature Version 2");
    expect(error.message).toContain("cannot sign with it");
    expect(error.message).toContain("AWS_S3_SIGNATURE_VERSION");
    expect(new S3Storage({ bucketName: "b", regionName: "eu-west-1", signatureVersion: "s3v4" })).toBeDefined();
  });

  it.each([
    [{ ftp: "http://proxy:3128" }, 'proxies key "ftp" must be "http", "https" or "scheme://host"'],
    [{ "https://s3.example.com/path": "http://proxy:3128" }, 'proxies key "https://s3.example.com/path" must be'],
    [{ https: "" }, 'proxies["https"] must be a proxy URL'],
  ])("refuses proxies %j in botocore's terms", (proxies, message) => {
    expect(configError(() => new S3Storage({ bucketName: "b", proxies })).message).toContain(message);
  });

  it("refuses a verify bundle that does not exist, naming the path and AWS_S3_VERIFY", () => {
    const missing = path.join(os.tmpdir(), "typeorm-storages-no-such-bundle.pem");
    const error = configError(() => new S3Storage({ bucketName: "b", regionName: "eu-west-1", verify: missing }));
    expect(error.message).toContain(JSON.stringify(missing));
    expect(error.message).toContain("AWS_S3_VERIFY");
    expect(error.message).toContain("or false to skip verification");
    expect((error.cause as NodeJS.ErrnoException).code).toBe("ENOENT");
  });

  it("refuses a verify file that holds no PEM certificate", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "typeorm-storages-verify-"));
    const notPem = path.join(dir, "bundle.der");
    fs.writeFileSync(notPem, Buffer.from([0x30, 0x82, 0x01, 0x0a]));
    try {
      const error = configError(() => new S3Storage({ bucketName: "b", regionName: "eu-west-1", verify: notPem }));
      expect(error.message).toContain("holds no PEM certificate");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses proxies or verify next to an injected client, which would ignore them", () => {
    const client = new S3Client({ region: "us-east-1" });
    const error = configError(
      () => new S3Storage({ bucketName: "b", client, proxies: { https: "http://proxy:3128" }, verify: false }),
    );
    expect(error.message).toContain("verify, proxies cannot be combined with an injected client");
    client.destroy();
  });

  it("refuses verify or proxies next to a ready clientConfig.requestHandler, whose agents it cannot set", () => {
    const requestHandler = new NodeHttpHandler();
    const error = configError(
      () =>
        new S3Storage({ bucketName: "b", regionName: "eu-west-1", verify: false, clientConfig: { requestHandler } }),
    );
    expect(error.message).toContain("clientConfig.requestHandler brings its own handler or agent");
    expect(error.message).toContain("Pass NodeHttpHandler options instead");
    requestHandler.destroy();
  });

  it("keeps the SDK's default request handler when no connection option needs another", async () => {
    const storage = new S3Storage({ bucketName: "b", regionName: "eu-west-1", accessKey: "a", secretKey: "s" });
    const raw = new S3Client({ region: "eu-west-1" });
    expect(storage.client.config.requestHandler.constructor).toBe(raw.config.requestHandler.constructor);
    expect((storage.client.config.requestHandler as NodeHttpHandler).httpHandlerConfigs()).toEqual({});
    raw.destroy();
    await storage.close();
  });
});

describe("S3Storage useSsl", () => {
  const aws: S3StorageOptions = {
    bucketName: "typeorm-storages-use-ssl",
    regionName: "eu-west-1",
    accessKey: "AKIDEXAMPLE",
    secretKey: "secret",
    clientConfig: { maxAttempts: 1 },
  };

  it("sends requests for an AWS region over https by default", async () => {
    const storage = new S3Storage(aws);
    const destinations = stopBeforeSending(storage.client);
    await expect(storage.exists("a.txt")).rejects.toThrow("stopped before sending");
    expect(destinations[0]).toEqual({
      protocol: "https:",
      hostname: "typeorm-storages-use-ssl.s3.eu-west-1.amazonaws.com",
      path: "/a.txt",
    });
    expect(storage.url("a.txt")).toMatch(
      /^https:\/\/typeorm-storages-use-ssl\.s3\.eu-west-1\.amazonaws\.com\/a\.txt\?/,
    );
    await storage.close();
  });

  it("with useSsl: false sends them to the same AWS host over http, and builds http URLs", async () => {
    const storage = new S3Storage({ ...aws, useSsl: false });
    const requests = captureRequests(storage.client);
    const destinations = stopBeforeSending(storage.client);
    await expect(storage.exists("a.txt")).rejects.toThrow("stopped before sending");
    expect(destinations[0]).toEqual({
      protocol: "http:",
      hostname: "typeorm-storages-use-ssl.s3.eu-west-1.amazonaws.com",
      path: "/a.txt",
    });
    // Still signed for the same host: only the scheme changed.
    expect(requests[0]?.headers.authorization).toContain("Credential=AKIDEXAMPLE/");
    expect(requests[0]?.headers.host).toBe("typeorm-storages-use-ssl.s3.eu-west-1.amazonaws.com");
    expect(storage.url("a.txt")).toMatch(/^http:\/\/typeorm-storages-use-ssl\.s3\.eu-west-1\.amazonaws\.com\/a\.txt\?/);
    const unsigned = new S3Storage({ ...aws, useSsl: false, querystringAuth: false });
    expect(unsigned.url("a.txt")).toBe("http://typeorm-storages-use-ssl.s3.eu-west-1.amazonaws.com/a.txt");
    await unsigned.close();
    await storage.close();
  });

  it("with useSsl: false builds http URLs for a region the SDK resolves at ready()", async () => {
    const restore = setEnv({ AWS_REGION: "eu-central-1" });
    try {
      const { regionName: _, ...noRegion } = aws;
      const storage = new S3Storage({ ...noRegion, useSsl: false, querystringAuth: false });
      await storage.ready();
      expect(storage.url("a.txt")).toBe("http://typeorm-storages-use-ssl.s3.eu-central-1.amazonaws.com/a.txt");
      await storage.close();
    } finally {
      restore();
    }
  });

  it("lets an endpointUrl's scheme win over useSsl, as django-storages documents", async () => {
    const storage = new S3Storage({ ...aws, useSsl: false, endpointUrl: "https://s3.example.com" });
    const destinations = stopBeforeSending(storage.client);
    await expect(storage.exists("a.txt")).rejects.toThrow("stopped before sending");
    expect(destinations[0]?.protocol).toBe("https:");
    // path style, as botocore chooses for an endpoint URL on "auto"
    expect(storage.url("a.txt")).toMatch(/^https:\/\/s3\.example\.com\/typeorm-storages-use-ssl\/a\.txt\?/);
    await storage.close();
  });

  it("with useSsl: false still talks to an http endpointUrl", async () => {
    const bucket = await createTestBucket("use-ssl-false");
    const storage = makeS3Storage(bucket, "default", { useSsl: false });
    try {
      await roundTrip(storage);
    } finally {
      await storage.close();
      await deleteTestBucket(bucket);
    }
  });
});

describe("S3Storage verify and proxies, through a TLS proxy with a self-signed certificate", () => {
  let dir: string;
  let certificate: TestCertificate;
  let otherCertificate: TestCertificate;
  let tlsServer: TestServer;
  let bucket: string;
  const storages: S3Storage[] = [];

  /** A storage on the TLS reverse proxy in front of the test server; closed after the suite. */
  function overTls(options: Partial<S3StorageOptions> = {}): S3Storage {
    const storage = makeS3Storage(bucket, "default", { endpointUrl: tlsServer.url, ...options });
    storages.push(storage);
    return storage;
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "typeorm-storages-tls-"));
    certificate = selfSignedCertificate(dir, "server");
    otherCertificate = selfSignedCertificate(dir, "other");
    tlsServer = await startTlsReverseProxy(certificate, s3Env().endpoint);
    bucket = await createTestBucket("verify");
  });

  afterAll(async () => {
    for (const storage of storages) await storage.close();
    await tlsServer.close();
    await deleteTestBucket(bucket);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe("verify", () => {
    it("by default refuses the self-signed certificate, with the TLS error as the cause", async () => {
      const error = await overTls()
        .save("verify/never.txt", "x")
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageOperationError);
      expect((error as Error).message).toMatch(/^Could not save "verify\/never.txt" on .*: .*self-signed certificate/);
      expect((error as Error).message).toContain(
        'is not trusted. If the server uses a private CA, give its PEM bundle as verify: "/path/ca.pem" (AWS_S3_VERIFY)',
      );
      expectTlsRefusal(error);
    });

    it("with verify: false skips the verification, keeping clientConfig's NodeHttpHandler options", async () => {
      const storage = overTls({
        verify: false,
        clientConfig: { maxAttempts: 1, requestHandler: { requestTimeout: 9999 } },
      });
      await roundTrip(storage);
      const handler = storage.client.config.requestHandler as NodeHttpHandler;
      expect(handler).toBeInstanceOf(NodeHttpHandler);
      expect(handler.httpHandlerConfigs()).toMatchObject({ requestTimeout: 9999 });
    });

    it("with verify: a PEM bundle path trusts that certificate, also for 100-continue uploads", async () => {
      const storage = overTls({ verify: certificate.certPath });
      await roundTrip(storage);
      // Bodies of 2 MiB and more carry `Expect: 100-continue`, for which the SDK would otherwise use a
      // throwaway agent of its own: the bundle must reach those requests too.
      const requests = captureRequests(storage.client);
      await roundTrip(storage, Buffer.alloc(3 * MiB, 7));
      expect(requests.find((r) => r.command === "PutObjectCommand")?.headers.Expect).toBe("100-continue");
    });

    it("with verify: a bundle of other CAs refuses the server, since the bundle replaces Node's CAs", async () => {
      const error = await overTls({ verify: otherCertificate.certPath })
        .save("verify/never.txt", "x")
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageOperationError);
      expect((error as Error).message).toContain(
        `is not signed by a CA in the bundle given as verify (${otherCertificate.certPath}, AWS_S3_VERIFY)`,
      );
      expectTlsRefusal(error);
    });
  });

  describe("proxies", () => {
    let proxy: TestForwardProxy;
    let other: TestForwardProxy;

    beforeEach(async () => {
      proxy = await startForwardProxy();
      other = await startForwardProxy();
    });

    afterEach(async () => {
      await proxy.close();
      await other.close();
    });

    it("sends requests to an http endpoint through the http proxy, as absolute-URI requests", async () => {
      const endpoint = new URL(s3Env().endpoint);
      await roundTrip(makeTracked({ proxies: { http: proxy.url } }));
      expect(proxy.forwarded.length).toBeGreaterThanOrEqual(3);
      expect(proxy.forwarded[0]).toMatch(new RegExp(`^PUT ${endpoint.origin}/${bucket}/connection/`));
      expect(proxy.tunnels).toEqual([]);
    });

    it("takes a proxy without scheme as http://, as botocore does", async () => {
      await roundTrip(makeTracked({ proxies: { http: proxy.url.replace("http://", "") } }));
      expect(proxy.forwarded.length).toBeGreaterThanOrEqual(3);
    });

    it("tunnels requests to an https endpoint through the https proxy with CONNECT, verifying S3's certificate", async () => {
      const storage = overTls({ proxies: { https: proxy.url }, verify: certificate.certPath });
      await roundTrip(storage);
      await roundTrip(storage, Buffer.alloc(3 * MiB, 1));
      expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
      expect(new Set(proxy.tunnels)).toEqual(new Set([new URL(tlsServer.url).host]));
      expect(proxy.forwarded).toEqual([]);
      // Through the tunnel the certificate is still checked: the default trust store refuses it.
      const refused = await overTls({ proxies: { https: proxy.url } })
        .save("proxies/never.txt", "x")
        .catch((e: unknown) => e);
      expectTlsRefusal(refused);
    });

    it("lets a scheme://host key win over the scheme key", async () => {
      const host = new URL(s3Env().endpoint).hostname;
      await roundTrip(makeTracked({ proxies: { http: other.url, [`http://${host}`]: proxy.url } }));
      expect(proxy.forwarded.length).toBeGreaterThanOrEqual(3);
      expect(other.forwarded).toEqual([]);
    });

    it("connects directly when only the other scheme has a proxy", async () => {
      await roundTrip(makeTracked({ proxies: { https: proxy.url } }));
      expect(proxy.forwarded).toEqual([]);
      expect(proxy.tunnels).toEqual([]);
    });

    it("reuses the proxy connection across requests (keep-alive)", async () => {
      const storage = makeTracked({ proxies: { http: proxy.url } });
      for (let i = 0; i < 5; i++) await roundTrip(storage);
      expect(proxy.forwarded.length).toBeGreaterThanOrEqual(15);
      expect(proxy.connections).toBe(1);
    });

    describe("from HTTP_PROXY / HTTPS_PROXY, as botocore reads them when proxies is not set", () => {
      const names = [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "NO_PROXY",
        "no_proxy",
        "REQUEST_METHOD",
      ];
      let restore: () => void = () => undefined;
      const withEnv = (values: Record<string, string>) => {
        restore = setEnv({ ...Object.fromEntries(names.map((name) => [name, undefined])), ...values });
      };
      afterEach(() => restore());

      it("sends requests through the proxy HTTP_PROXY names", async () => {
        withEnv({ HTTP_PROXY: proxy.url });
        await roundTrip(makeTracked({}));
        expect(proxy.forwarded.length).toBeGreaterThanOrEqual(3);
      });

      it("prefers the lower-case variable, as urllib does", async () => {
        withEnv({ HTTP_PROXY: other.url, http_proxy: proxy.url });
        await roundTrip(makeTracked({}));
        expect(proxy.forwarded.length).toBeGreaterThanOrEqual(3);
        expect(other.forwarded).toEqual([]);
      });

      it("connects directly to a host NO_PROXY names, or with proxies given (even empty)", async () => {
        const host = new URL(s3Env().endpoint).hostname;
        withEnv({ HTTP_PROXY: proxy.url, NO_PROXY: `example.com, .${host}` });
        await roundTrip(makeTracked({}));
        restore();
        withEnv({ HTTP_PROXY: proxy.url, NO_PROXY: "*" });
        await roundTrip(makeTracked({}));
        restore();
        withEnv({ HTTP_PROXY: proxy.url });
        await roundTrip(makeTracked({ proxies: {} }));
        await roundTrip(makeTracked({ proxies: { http: other.url } }));
        expect(proxy.forwarded).toEqual([]);
        expect(other.forwarded.length).toBeGreaterThanOrEqual(3);
      });

      it("ignores HTTP_PROXY under CGI (REQUEST_METHOD set), where a request header could set it", async () => {
        withEnv({ HTTP_PROXY: proxy.url, REQUEST_METHOD: "GET" });
        await roundTrip(makeTracked({}));
        expect(proxy.forwarded).toEqual([]);
      });

      it("names the variable of a proxy URL that cannot be used", () => {
        withEnv({ HTTPS_PROXY: "http://proxy:port" });
        expect(configError(() => makeTracked({})).message).toContain("HTTPS_PROXY");
      });
    });

    /** A storage on the plain-http test server; closed after the suite. */
    function makeTracked(options: Partial<S3StorageOptions>): S3Storage {
      const storage = makeS3Storage(bucket, "default", options);
      storages.push(storage);
      return storage;
    }
  });
});

describe("S3Storage sessionProfile", () => {
  const profile = "typeorm-storages-test";
  let dir: string;
  let restoreEnv: () => void;
  let bucket: string;
  const storages: S3Storage[] = [];

  /** A storage whose only credentials are the named profile of the shared files. */
  function withProfile(options: Partial<S3StorageOptions> = {}): S3Storage {
    const storage = new S3Storage({
      bucketName: bucket,
      endpointUrl: s3Env().endpoint,
      addressingStyle: "path",
      sessionProfile: profile,
      clientConfig: { maxAttempts: 1 },
      ...options,
    });
    storages.push(storage);
    return storage;
  }

  beforeAll(async () => {
    const { accessKey, secretKey } = s3Env();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "typeorm-storages-profile-"));
    const credentials = path.join(dir, "credentials");
    const config = path.join(dir, "config");
    fs.writeFileSync(
      credentials,
      `[default]\naws_access_key_id = ${accessKey}\naws_secret_access_key = not-the-secret\n\n` +
        `[${profile}]\naws_access_key_id = ${accessKey}\naws_secret_access_key = ${secretKey}\n`,
    );
    fs.writeFileSync(config, `[profile ${profile}]\nregion = eu-north-1\n`);
    restoreEnv = setEnv({
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_CONFIG_FILE: config,
      AWS_PROFILE: undefined,
      AWS_DEFAULT_PROFILE: undefined,
      // Keys in the environment lose to an explicit profile, as with boto3's Session(profile_name=...).
      AWS_ACCESS_KEY_ID: "AKIDFROMENVIRONMENT",
      AWS_SECRET_ACCESS_KEY: "wrong",
      AWS_SESSION_TOKEN: undefined,
      AWS_EC2_METADATA_DISABLED: "true",
    });
    bucket = await createTestBucket("session-profile");
  });

  afterAll(async () => {
    for (const storage of storages) await storage.close();
    restoreEnv();
    await deleteTestBucket(bucket);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("signs requests with the profile's keys, not the environment's", async () => {
    // The SDK warns once that AWS_ACCESS_KEY_ID is set next to a profile; that is what this test sets up.
    const warn = jest.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const storage = withProfile();
      const requests = captureRequests(storage.client);
      await roundTrip(storage);
      expect(requests.length).toBeGreaterThan(0);
      for (const request of requests) {
        expect(request.headers.authorization).toContain(`Credential=${s3Env().accessKey}/`);
      }
    } finally {
      warn.mockRestore();
    }
  });

  it("presigns URLs with the profile's access key, after ready()", async () => {
    const storage = withProfile();
    const key = await storage.save("profile/presigned.txt", "signed by a profile");
    expect(() => withProfile().url(key)).toThrow("credentials are not resolved yet");
    await storage.ready();
    const url = new URL(storage.url(key));
    expect(url.searchParams.get("X-Amz-Credential")).toMatch(new RegExp(`^${s3Env().accessKey}/`));
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("signed by a profile");
  });

  it("takes the region from the profile for AWS endpoints", async () => {
    const storage = withProfile({ endpointUrl: undefined, addressingStyle: "virtual", querystringAuth: false });
    await storage.ready();
    expect(storage.url("a.txt")).toBe(`https://${bucket}.s3.eu-north-1.amazonaws.com/a.txt`);
    expect(await storage.client.config.region()).toBe("eu-north-1");
  });

  it("names a missing profile and where it is looked up, for requests and for ready()", async () => {
    const storage = withProfile({ sessionProfile: "no-such-profile" });
    const saved = await storage.save("profile/missing.txt", "x").catch((error: unknown) => error);
    expect(saved).toBeInstanceOf(StorageConfigError);
    expect((saved as Error).message).toContain('no usable credentials in profile "no-such-profile"');
    expect((saved as Error).message).toContain("AWS_SHARED_CREDENTIALS_FILE");
    expect(((saved as Error).cause as Error).name).toBe("CredentialsProviderError");
    await expect(storage.ready()).rejects.toThrow('profile "no-such-profile"');
  });

  it("refuses sessionProfile together with accessKey/secretKey", () => {
    const error = configError(() => withProfile({ accessKey: "a", secretKey: "s" }));
    expect(error.message).toContain("sessionProfile cannot be combined with accessKey/secretKey");
    expect(error.message).toContain("AWS_S3_SESSION_PROFILE");
  });

  describeStrict("on a server that verifies signatures", () => {
    it("accepts requests signed with the profile's keys", async () => {
      const storage = withProfile();
      await roundTrip(storage);
      await roundTrip(storage, Buffer.alloc(3 * MiB, 3));
    });

    it("accepts a URL presigned with the profile's keys and refuses it altered", async () => {
      const storage = withProfile();
      const key = await storage.save("profile/strict.txt", "verified");
      await storage.ready();
      const url = storage.url(key);
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("verified");
      const tampered = url.replace(
        /X-Amz-Signature=([0-9a-f])/,
        (_, c: string) => `X-Amz-Signature=${c === "0" ? "1" : "0"}`,
      );
      expect((await fetch(tampered)).status).toBe(403);
    });

    it("is refused with a profile holding a wrong secret, so the profile really signs", async () => {
      const wrong = withProfile({ sessionProfile: "default" });
      const error = await wrong.save("profile/never.txt", "x").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageOperationError);
      expect(((error as Error).cause as Error).name).toBe("SignatureDoesNotMatch");
      expect((error as Error).message).toContain("The credentials were refused.");
    });
  });
});

describe("S3Storage failures say which setting to check", () => {
  it("names the bucket and AWS_STORAGE_BUCKET_NAME when the bucket does not exist", async () => {
    const storage = makeS3Storage("no-such-bucket-typeorm-storages");
    const error = await storage.save("missing/never.txt", "x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageOperationError);
    expect(((error as Error).cause as Error).name).toBe("NoSuchBucket");
    expect((error as Error).message).toContain(
      'The bucket "no-such-bucket-typeorm-storages" does not exist at http://127.0.0.1:',
    );
    expect((error as Error).message).toContain("Check bucketName (AWS_STORAGE_BUCKET_NAME) and endpointUrl");
    await storage.close();
  });

  it("reports a missing bucket on a read as the configuration error it is, not as a missing file", async () => {
    const storage = makeS3Storage("no-such-bucket-typeorm-storages");
    const error = await storage.read("missing/never.txt").catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(FileNotFoundError);
    expect(error).toBeInstanceOf(StorageOperationError);
    expect((error as Error).message).toContain("Check bucketName (AWS_STORAGE_BUCKET_NAME)");
    await storage.close();
  });

  it("names the endpoint and AWS_S3_ENDPOINT_URL when nothing listens there", async () => {
    const closed = await closedPort();
    const storage = makeS3Storage("any-bucket", "default", {
      endpointUrl: `http://127.0.0.1:${closed}`,
      clientConfig: { maxAttempts: 1 },
    });
    const error = await storage.read("missing/never.txt").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageOperationError);
    expect((error as Error).message).toContain(
      `Nothing answered at http://127.0.0.1:${closed}. Check endpointUrl (AWS_S3_ENDPOINT_URL)`,
    );
    await storage.close();
  });
});

/** A local port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const net = await import("node:net");
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

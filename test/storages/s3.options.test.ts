import { generateKeyPairSync } from "node:crypto";
import { inspect } from "node:util";
import { S3Client } from "@aws-sdk/client-s3";
import { S3Storage } from "../../src/storage/S3Storage";
import { configError } from "../support/configError";

describe("S3Storage options", () => {
  it("rejects unknown options and lists the valid ones", () => {
    const error = configError(() => new S3Storage({ bucketName: "b", bucket_name: "x" } as never));
    expect(error.message).toContain("unknown option bucket_name");
    expect(error.message).toContain("bucketName, location, regionName, endpointUrl");
    expect(error.code).toBe("STORAGE_CONFIG");
  });

  it("requires bucketName and names its environment variable", () => {
    expect(configError(() => new S3Storage({} as never)).message).toContain("AWS_STORAGE_BUCKET_NAME");
  });

  it("lists every option in the unknown-option message, the new ones included", () => {
    const error = configError(() => new S3Storage({ bucketName: "b", nope: 1 } as never));
    for (const name of ["sessionProfile", "useSsl", "verify", "proxies", "signatureVersion", "storageClass"]) {
      expect(error.message).toContain(name);
    }
    for (const name of [
      "maxAgeSeconds",
      "gzipContentTypes",
      "publicUrl",
      "cloudfrontKeyId",
      "useThreads",
      "transferConfig",
    ]) {
      expect(error.message).toContain(name);
    }
  });

  it("fills in django-storages' defaults", () => {
    const storage = new S3Storage({ bucketName: "b", regionName: "eu-west-1" });
    expect(storage.fileOverwrite).toBe(false);
    const driver = storage.driver as unknown as { settings: Record<string, unknown> };
    expect(driver.settings).toMatchObject({
      keyPrefix: "",
      querystringAuth: true,
      querystringExpire: 3600,
      urlProtocol: "https:",
      addressingStyle: "auto",
      defaultAcl: undefined,
      multipartThreshold: 8 * 1024 * 1024,
      multipartChunksize: 8 * 1024 * 1024,
      maxConcurrency: 4,
    });
  });

  it("keeps the secret key, session token and CloudFront key out of logged or serialized settings", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const cloudfrontKey = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const storage = new S3Storage({
      bucketName: "b",
      regionName: "eu-west-1",
      accessKey: "AKIDEXAMPLE",
      secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      securityToken: "session-token-secret",
      customDomain: "cdn.example.com",
      cloudfrontKey,
      cloudfrontKeyId: "K2JCJMDEHXQW5F",
    });
    const { settings } = storage;
    expect(settings.secretKey).toBe("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    expect(settings.securityToken).toBe("session-token-secret");
    expect(settings.cloudfrontKey).toBe(cloudfrontKey);
    for (const shown of [JSON.stringify(settings), inspect(settings, { depth: 5 }), JSON.stringify({ ...settings })]) {
      expect(shown).toContain("AKIDEXAMPLE");
      expect(shown).not.toContain("bPxRfiCYEXAMPLEKEY");
      expect(shown).not.toContain("session-token-secret");
      expect(shown).not.toContain("PRIVATE KEY");
    }
  });

  it("passes fileOverwrite to the facade and location to the driver", () => {
    const storage = new S3Storage({
      bucketName: "b",
      regionName: "eu-west-1",
      fileOverwrite: true,
      location: "/media/",
    });
    expect(storage.fileOverwrite).toBe(true);
    expect((storage.driver as unknown as { settings: { keyPrefix: string } }).settings.keyPrefix).toBe("media/");
  });

  it.each([
    [{ accessKey: "a" }, "accessKey and secretKey must be given together"],
    [{ securityToken: "t" }, "securityToken needs accessKey and secretKey"],
    [{ querystringExpire: 8 * 24 * 3600 }, "querystringExpire must be an integer from 1 to 604800"],
    [{ multipartChunksize: 1024 }, "multipartChunksize must be an integer from 5242880"],
    [{ addressingStyle: "dns" }, 'addressingStyle must be "path", "virtual" or "auto"'],
    [{ defaultAcl: "public" }, "defaultAcl must be one of private, public-read"],
    [{ endpointUrl: "localhost:9000" }, "endpointUrl must be an absolute URL"],
    [{ customDomain: "https://cdn.example.com" }, "customDomain is a host name"],
    [{ urlProtocol: "ftp:" }, 'urlProtocol must be "https:" or "http:"'],
    [{ location: "a/../b" }, "location"],
    [{ objectParameters: { Key: "x" } }, "objectParameters must not set Key"],
    [
      { objectParameters: { "Cache-Control": "max-age=60" } },
      'objectParameters has no parameter "Cache-Control" (did you mean CacheControl?)',
    ],
    [{ objectParameters: { "x-amz-acl": "private" } }, "(did you mean ACL?)"],
    [{ objectParameters: { CacheControll: "max-age=60" } }, "PutObject's are ACL, CacheControl, ContentDisposition"],
    [{ objectParameters: { ContentMD5: "1B2M2Y8AsgTpgAmY7PhCfg==" } }, "objectParameters.ContentMD5 depends on"],
    [{ objectParameters: { IfNoneMatch: "*" } }, "objectParameters.IfNoneMatch depends on"],
    [{ objectParameters: { Metadata: { build: 42 } } }, 'objectParameters.Metadata["build"] must be a string'],
    [{ objectParameters: { Metadata: "owner=web" } }, "objectParameters.Metadata must be an object"],
    [{ signatureVersion: "s3" }, 'only "s3v4" is. AWS retired Signature Version 2'],
    [{ sessionProfile: "p", accessKey: "a", secretKey: "s" }, "sessionProfile cannot be combined with accessKey"],
    [{ maxMemorySize: 0 }, "maxMemorySize is not needed: reads stream"],
    [{ fileNameCharset: "utf-8" }, "fileNameCharset is not needed"],
    [{ reducedRedundancy: true, storageClass: "STANDARD_IA" }, "reducedRedundancy contradicts storageClass"],
    [{ metadata: { "bad name": "x" } }, 'metadata name "bad name" must be a valid HTTP header token'],
    [{ transferConfig: { max_concurrency: 2 } }, "unknown transferConfig option max_concurrency"],
    [{ maxAgeSeconds: -1 }, "maxAgeSeconds must be an integer from 0"],
    [{ gzip: "yes" }, "gzip must be true or false"],
    [{ gzipContentTypes: "text/css" }, "gzipContentTypes must be an array"],
    [{ gzipContentTypes: ['"text/css"', "js"] }, 'gzipContentTypes entry "\\"text/css\\"" is not a content type'],
    [{ useThreads: false, maxConcurrency: 0 }, "maxConcurrency must be an integer from 1"],
  ])("refuses %j with a message that says what to fix", (extra, message) => {
    expect(configError(() => new S3Storage({ bucketName: "b", ...(extra as object) })).message).toContain(message);
  });

  it("refuses credentials or client config next to an injected client, which would ignore them", () => {
    const client = new S3Client({ region: "us-east-1" });
    const error = configError(() => new S3Storage({ bucketName: "b", client, accessKey: "a", secretKey: "s" }));
    expect(error.message).toContain("accessKey, secretKey cannot be combined with an injected client");
    expect(new S3Storage({ bucketName: "b", client }).client).toBe(client);
    client.destroy();
  });
});

describe("S3Storage public URLs flag", () => {
  it("reports public URLs only when querystringAuth is off, custom domain or not", () => {
    const base = { bucketName: "b", regionName: "eu-west-1" };
    expect(new S3Storage(base).driver.publicUrls).toBe(false);
    expect(new S3Storage({ ...base, customDomain: "cdn.example.com" }).driver.publicUrls).toBe(false);
    expect(new S3Storage({ ...base, querystringAuth: false }).driver.publicUrls).toBe(true);
  });
});

describe("S3Storage public objects flag", () => {
  it("reports public objects for a public canned ACL, from objectParameters or defaultAcl", () => {
    const base = { bucketName: "b", regionName: "eu-west-1" };
    const flag = (options: Partial<ConstructorParameters<typeof S3Storage>[0]>) =>
      new S3Storage({ ...base, ...options }).driver.publicObjects;
    expect(flag({})).toBe(false);
    for (const acl of ["public-read", "public-read-write", "authenticated-read"] as const) {
      expect(flag({ defaultAcl: acl })).toBe(true);
      expect(flag({ objectParameters: { ACL: acl } })).toBe(true);
    }
    for (const acl of ["private", "bucket-owner-full-control", "bucket-owner-read", "aws-exec-read"] as const)
      expect(flag({ defaultAcl: acl })).toBe(false);
    // an ACL in objectParameters wins over defaultAcl, as in the PUT it sends
    expect(flag({ defaultAcl: "public-read", objectParameters: { ACL: "private" } })).toBe(false);
    expect(flag({ defaultAcl: "private", objectParameters: { ACL: "public-read" } })).toBe(true);
  });

  it("counts grants that let everyone or every AWS account read, not grants to named accounts", () => {
    const flag = (objectParameters: Record<string, string>) =>
      new S3Storage({ bucketName: "b", regionName: "eu-west-1", objectParameters }).driver.publicObjects;
    const allUsers = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"';
    const authenticated = "uri=http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
    expect(flag({ GrantRead: allUsers })).toBe(true);
    expect(flag({ GrantFullControl: `id="79a59df900b949e5", ${authenticated}` })).toBe(true);
    expect(flag({ GrantWriteACP: allUsers })).toBe(true); // its holder can grant itself read
    expect(flag({ GrantReadACP: allUsers })).toBe(false); // shows the ACL, not the bytes
    expect(flag({ GrantRead: 'id="79a59df900b949e5"', GrantFullControl: 'emailAddress="ops@example.com"' })).toBe(
      false,
    );
    expect(flag({ GrantRead: 'uri="http://acs.amazonaws.com/groups/s3/LogDelivery"' })).toBe(false);
  });
});

describe("S3Storage public URLs with a custom domain", () => {
  it("counts an unsigned custom domain (cloudfrontSigner: null) as public, so private fields refuse it", () => {
    const base = { bucketName: "b", regionName: "eu-west-1", customDomain: "cdn.example.com" };
    expect(new S3Storage({ ...base, cloudfrontSigner: null }).driver.publicUrls).toBe(true);
    expect(new S3Storage({ ...base, cloudfrontSigner: (url) => `${url}?signed` }).driver.publicUrls).toBe(false);
    expect(
      new S3Storage({ bucketName: "b", regionName: "eu-west-1", querystringAuth: false, publicUrl: "https://x/" })
        .driver.publicUrls,
    ).toBe(true);
  });
});

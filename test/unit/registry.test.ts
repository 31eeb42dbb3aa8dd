import type { KeyObject } from "node:crypto";
import { InMemoryStorage, StorageConfigError, StorageRegistry } from "../../src";
import { strftime } from "../../src/fields/strftime";
import { S3Storage } from "../../src/storage/S3Storage";
import { collectGarbage, describeWithGc } from "../support/collectGarbage";

describe("StorageRegistry", () => {
  describe("signingKey, for direct-upload tickets", () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env.STORAGES_SIGNING_SECRET = saved.STORAGES_SIGNING_SECRET;
      if (saved.STORAGES_SIGNING_SECRET === undefined) delete process.env.STORAGES_SIGNING_SECRET;
      process.env.NODE_ENV = saved.NODE_ENV;
    });
    const bytes = (key: KeyObject) => key.export().toString("hex");

    it("takes configure()'s secret, else the environment's, else one per registry kept across configure()", () => {
      const registry = new StorageRegistry();
      delete process.env.STORAGES_SIGNING_SECRET;
      process.env.NODE_ENV = "development";
      const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
      try {
        const generated = bytes(registry.signingKey());
        registry.configure({});
        expect(bytes(registry.signingKey())).toBe(generated); // outstanding tickets stay valid
        expect(warn).toHaveBeenCalledTimes(1);
        process.env.STORAGES_SIGNING_SECRET = "e".repeat(32);
        expect(bytes(registry.signingKey())).toBe(Buffer.from("e".repeat(32)).toString("hex"));
        registry.configure({}, { signingSecret: "c".repeat(32) });
        expect(bytes(registry.signingKey())).toBe(Buffer.from("c".repeat(32)).toString("hex"));
        registry.configure({});
        expect(bytes(registry.signingKey())).toBe(Buffer.from("e".repeat(32)).toString("hex"));
        process.env.STORAGES_SIGNING_SECRET = "short";
        expect(() => registry.signingKey()).toThrow(/STORAGES_SIGNING_SECRET must be at least 32 bytes/);
        delete process.env.STORAGES_SIGNING_SECRET;
        process.env.NODE_ENV = "production";
        expect(() => new StorageRegistry().signingKey()).toThrow(StorageConfigError);
      } finally {
        warn.mockRestore();
      }
    });
  });

  it("builds factories lazily, once, and names the storage", () => {
    const registry = new StorageRegistry();
    let built = 0;
    registry.configure({
      default: () => {
        built++;
        return new InMemoryStorage();
      },
    });
    expect(built).toBe(0);
    const a = registry.get("default");
    expect(registry.get("default")).toBe(a);
    expect(built).toBe(1);
    expect(a.name).toBe("default");
  });

  it("lists the configured names when asked for an unknown one", () => {
    const registry = new StorageRegistry();
    registry.configure({ default: new InMemoryStorage(), staticfiles: new InMemoryStorage() });
    expect(() => registry.get("media")).toThrow(StorageConfigError);
    expect(() => registry.get("media")).toThrow('Configured storages: "default", "staticfiles".');
    expect(() => new StorageRegistry().get("default")).toThrow(/call storages.configure\(storagesFromEnv\(\)\)/);
  });

  it("counts faked storages among the names it lists for an unknown one", () => {
    const registry = new StorageRegistry();
    registry.fake("default");
    // a test that fakes "default" and forgets "private" was told no storage was configured at all
    expect(() => registry.get("private")).toThrow('Configured storages: "default".');
    registry.configure({ staticfiles: new InMemoryStorage() });
    expect(() => registry.get("media")).toThrow('Configured storages: "staticfiles", "default".');
  });

  it("wraps a failing factory in StorageConfigError with the cause", () => {
    const registry = new StorageRegistry();
    const cause = new Error("no bucket");
    registry.configure({
      default: () => {
        throw cause;
      },
    });
    const error = (() => {
      try {
        registry.get("default");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(StorageConfigError);
    expect(error).toMatchObject({ storage: "default", cause });
  });

  it("fakes a storage with memory until restore()", async () => {
    const registry = new StorageRegistry();
    const real = new InMemoryStorage();
    registry.configure({ default: real });
    const fake = registry.fake("default");
    expect(registry.get("default")).toBe(fake);
    await fake.save("a.txt", "x");
    expect(await real.exists("a.txt")).toBe(false);
    registry.restore();
    expect(registry.get("default")).toBe(real);
  });

  it("changes its generation whenever what a name resolves to may change, and only then", async () => {
    const registry = new StorageRegistry();
    const seen = [registry.generation];
    registry.configure({ default: () => new InMemoryStorage() });
    seen.push(registry.generation);
    registry.get("default"); // building a factory's storage changes nothing a lookup returns
    expect(registry.generation).toBe(seen[1]);
    registry.fake("default");
    seen.push(registry.generation);
    registry.restore("default");
    seen.push(registry.generation);
    await registry.close(); // the next get() builds a new storage from the factory
    seen.push(registry.generation);
    expect(new Set(seen).size).toBe(5);
  });

  it("refuses a factory that gives something else than a Storage, saying what it gave", () => {
    const registry = new StorageRegistry();
    registry.configure({
      asynchronous: (async () => new InMemoryStorage()) as never,
      plain: (() => ({ url: () => "/x" })) as never,
      nothing: (() => undefined) as never,
    });
    expect(() => registry.get("asynchronous")).toThrow(
      /must be a Storage .* gave a Promise \(storage factories are synchronous/,
    );
    expect(() => registry.get("plain")).toThrow(/gave an object of class Object/);
    expect(() => registry.get("nothing")).toThrow(StorageConfigError);
  });

  it("ready() builds every storage", async () => {
    const registry = new StorageRegistry();
    let built = 0;
    const make = () => {
      built++;
      return new InMemoryStorage();
    };
    registry.configure({ a: make, b: make });
    await registry.ready();
    expect(built).toBe(2);
  });

  it("ready() waits for every storage and names each one that failed, leaving no rejection unhandled", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const registry = new StorageRegistry();
      const media = new InMemoryStorage();
      const credentials = new Error("credentials expired");
      jest
        .spyOn(media, "ready")
        .mockImplementation(() => new Promise((_, reject) => setTimeout(() => reject(credentials), 5)));
      const fine = new InMemoryStorage();
      registry.configure({
        media,
        private: () => {
          throw new Error("no signing secret");
        },
        fine,
      });
      const error = await registry.ready().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageConfigError);
      expect((error as Error).message).toMatch(/2 of 3 storages are not ready/);
      expect((error as Error).message).toContain('"media": credentials expired');
      expect((error as Error).message).toContain('"private": Could not build storage "private": no signing secret');
      expect((error as Error).cause).toBeInstanceOf(AggregateError);
      expect(((error as Error).cause as AggregateError).errors).toHaveLength(2);
      // one failure is thrown as it is
      registry.configure({ media, fine });
      await expect(registry.ready()).rejects.toBe(credentials);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

describe("strftime for uploadTo", () => {
  it("expands Django's tokens in UTC", () => {
    const date = new Date(Date.UTC(2026, 0, 5, 7, 8, 9));
    expect(strftime("docs/%Y/%m/%d/%H%M%S/%%/", date)).toBe("docs/2026/01/05/070809/%/");
  });
});

describeWithGc("storages configure() replaced", () => {
  it("lets an S3 storage go whose temporary credentials were refreshing", async () => {
    const registry = new StorageRegistry();
    const expiration = () => new Date(Date.now() + 3600_000);
    const forgotten = await (async () => {
      const storage = new S3Storage({
        bucketName: "bkt",
        endpointUrl: "http://127.0.0.1:9",
        clientConfig: {
          region: "us-east-1",
          credentials: async () => ({
            accessKeyId: "ASIA",
            secretAccessKey: "S",
            sessionToken: "T",
            expiration: expiration(),
          }),
        },
      });
      registry.configure({ default: storage });
      await registry.ready(); // resolves the credentials, and schedules their refresh
      registry.configure({ default: new InMemoryStorage() });
      return new WeakRef(storage);
    })();
    await collectGarbage();
    expect(forgotten.deref()).toBeUndefined();
  });
});

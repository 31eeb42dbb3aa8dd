import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadStorages } from "../../src/cli/loadStorages";
import { StorageConfigError } from "../../src/errors/StorageConfigError";

describe("loadStorages (the CLI's --config)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "load-storages-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const load = (name: string, source: string) => {
    writeFileSync(path.join(dir, name), source);
    return loadStorages(name, {}, dir);
  };

  it("takes module.exports itself, even when one storage is named default", async () => {
    const config = await load("plain.js", "module.exports = { default: () => 1, private: () => 2 };");
    expect(Object.keys(config)).toEqual(["default", "private"]);
  });

  it("takes a `storages` export, or the default export of a compiled ES module", async () => {
    expect(Object.keys(await load("named.js", "exports.storages = { media: () => 1 };"))).toEqual(["media"]);
    const compiled =
      'Object.defineProperty(exports, "__esModule", { value: true }); exports.default = { media: () => 1 };';
    expect(Object.keys(await load("compiled.js", compiled))).toEqual(["media"]);
    const nested = "exports.__esModule = true; exports.default = { storages: { media: () => 1 } };";
    expect(Object.keys(await load("nested.js", nested))).toEqual(["media"]);
  });

  it("says what to export when the module exports something else", async () => {
    const error = await load("wrong.js", "exports.bucket = 'b';").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageConfigError);
    expect((error as Error).message).toContain('must export its storages as its default export or as "storages"');
    expect((error as Error).message).toContain('It exports "bucket".');
  });

  it("wraps a module that fails to load, with the cause", async () => {
    const error = await load("broken.js", "throw new Error('boom');").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageConfigError);
    expect((error as Error).message).toContain("Could not load the config module");
    expect(((error as Error).cause as Error).message).toBe("boom");
  });

  it("reads the environment without --config", async () => {
    const config = await loadStorages(undefined, { USE_S3: "true", AWS_STORAGE_BUCKET_NAME: "b" }, dir);
    expect(Object.keys(config).sort()).toEqual(["default", "private", "staticfiles"]);
  });
});

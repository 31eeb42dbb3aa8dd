import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { FileNotFoundError } from "../../src/errors/FileNotFoundError";
import { StorageConfigError } from "../../src/errors/StorageConfigError";
import { serveFiles } from "../../src/http/serveFiles";
import { collectStatic } from "../../src/storage/collectStatic";
import { FileSystemStorage } from "../../src/storage/FileSystemStorage";
import { InMemoryStorage } from "../../src/storage/InMemoryStorage";
import { StaticManifest } from "../../src/storage/StaticManifest";
import type { Storage } from "../../src/storage/Storage";
import { runCli } from "../support/runCli";

let root: string;
let app: string;

const md5 = (text: string) => createHash("md5").update(text).digest("hex");
const h = (text: string) => md5(text).slice(0, 12);

async function put(name: string, content: string): Promise<void> {
  const file = path.join(app, ...name.split("/"));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
}

const LOGO = "<svg/>";
const FONT = "woff";
const BASE = "h1 { background: url(../img/logo.svg) }";
const JS = "console.log(1)\n//# sourceMappingURL=app.js.map";
const MAP = '{"version":3}';

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "manifest-"));
  app = path.join(root, "app");
  await put("img/logo.svg", LOGO);
  await put("fonts/a.woff", FONT);
  await put("css/base.css", BASE);
  await put("css/site.css", "@import 'base.css';\n@font-face { src: url('../fonts/a.woff?v=2#x') }");
  await put("js/app.js", JS);
  await put("js/app.js.map", MAP);
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The names and contents collectstatic --manifest should store for the files above. */
function expected() {
  const base = `h1 { background: url("../img/logo.${h(LOGO)}.svg") }`;
  const site = `@import url("base.${h(base)}.css");\n@font-face { src: url("../fonts/a.${h(FONT)}.woff?v=2#x") }`;
  const js = `console.log(1)\n//# sourceMappingURL=app.js.${h(MAP)}.map`;
  return {
    paths: {
      "css/base.css": `css/base.${h(base)}.css`,
      "css/site.css": `css/site.${h(site)}.css`,
      "fonts/a.woff": `fonts/a.${h(FONT)}.woff`,
      "img/logo.svg": `img/logo.${h(LOGO)}.svg`,
      "js/app.js": `js/app.${h(js)}.js`,
      "js/app.js.map": `js/app.js.${h(MAP)}.map`,
    },
    contents: { base, site, js },
  };
}

const backends: [string, () => Storage][] = [
  ["memory", () => new InMemoryStorage({ baseUrl: "/static/" })],
  ["filesystem", () => new FileSystemStorage({ location: path.join(root, "collected"), baseUrl: "/static/" })],
];

describe.each(backends)("collectStatic with a manifest, into %s storage", (_label, make) => {
  let storage: Storage;
  beforeEach(() => {
    storage = make();
  });

  it("stores the originals, a hashed copy of each with references rewritten, and the manifest", async () => {
    const { paths, contents } = expected();
    const summary = await collectStatic(storage, [app], { manifest: true });
    expect(summary).toMatchObject({ copied: 6, postProcessed: 6, failed: 0, manifestWritten: true });
    const names = (await storage.listAll()).map((o) => o.name);
    expect(names).toEqual(
      [...Object.keys(paths), ...Object.values(paths), "staticfiles.json"].sort((a, b) => (a < b ? -1 : 1)),
    );
    expect((await storage.read("css/site.css")).toString()).toContain("@import 'base.css'"); // original as it is
    expect((await storage.read(paths["css/site.css"])).toString()).toBe(contents.site);
    expect((await storage.read(paths["css/base.css"])).toString()).toBe(contents.base);
    expect((await storage.read(paths["js/app.js"])).toString()).toBe(contents.js);
    expect((await storage.read(paths["img/logo.svg"])).toString()).toBe(LOGO);
    expect((await storage.stat(paths["css/site.css"])).contentType).toBe("text/css");
    const manifest = JSON.parse((await storage.read("staticfiles.json")).toString());
    expect(manifest).toEqual({ paths, version: "1.1", hash: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect((await storage.stat("staticfiles.json")).contentType).toBe("application/json");

    const loaded = await StaticManifest.load(storage);
    expect(loaded.url("css/site.css")).toBe(`/static/${paths["css/site.css"]}`);
    expect(loaded.url("fonts/a.woff?v=3#y")).toBe(`/static/${paths["fonts/a.woff"]}?v=3#y`);
  });

  it("stores nothing on the next run when nothing changed, and only the changed file's copies after an edit", async () => {
    await collectStatic(storage, [app], { manifest: true });
    const save = jest.spyOn(storage, "save");
    expect(await collectStatic(storage, [app], { manifest: true })).toMatchObject({
      copied: 0,
      postProcessed: 0,
      manifestWritten: false,
    });
    expect(save).not.toHaveBeenCalled();

    await put("img/logo.svg", "<svg id='new'/>"); // base.css and site.css hash it, so they change too
    const summary = await collectStatic(storage, [app], { manifest: true });
    expect(summary).toMatchObject({ postProcessed: 3, manifestWritten: true });
    const loaded = await StaticManifest.load(storage);
    expect(loaded.hashedName("img/logo.svg")).toBe(`img/logo.${h("<svg id='new'/>")}.svg`);
    // the previous build's copies stay, for pages rendered before the deploy
    expect(await storage.exists(`img/logo.${h(LOGO)}.svg`)).toBe(true);
  });

  it("keeps the previous manifest when a file fails, and says which and why", async () => {
    await collectStatic(storage, [app], { manifest: true });
    const before = (await storage.read("staticfiles.json")).toString();
    await put("css/broken.css", "x { background: url(../img/missing.png) }");
    await put("img/logo.svg", "<svg id='new'/>");
    const summary = await collectStatic(storage, [app], { manifest: true });
    expect(summary).toMatchObject({ failed: 1, manifestWritten: false });
    expect(summary.failures[0]).toMatchObject({
      name: "css/broken.css",
      status: "failed",
      reason: expect.stringContaining('refers to img/missing.png ("../img/missing.png"), which is not among'),
    });
    expect((await storage.read("staticfiles.json")).toString()).toBe(before);
  });

  it("fails a file edited while its hashed copy is stored, and removes that copy: it would not match its name", async () => {
    const save = storage.save.bind(storage);
    const hashedLogo = expected().paths["img/logo.svg"];
    jest.spyOn(storage, "save").mockImplementation(async (name, content, options) => {
      const saved = await save(name, content, options);
      if (name === hashedLogo) await put("img/logo.svg", "<svg id='edited'/>"); // an editor saves meanwhile
      return saved;
    });
    const summary = await collectStatic(storage, [app], { manifest: true });
    expect(summary).toMatchObject({ failed: 1, manifestWritten: false });
    expect(summary.failures[0]).toMatchObject({
      name: "img/logo.svg",
      reason: expect.stringContaining("it changed after it was hashed"),
    });
    expect(await storage.exists(hashedLogo)).toBe(false);
  });

  it.each(["js/plain.js", "img/photo.png"])(
    "fails %s, edited after it was hashed and before its copy is stored, instead of storing it under a wrong name",
    async (victim) => {
      await put(victim, "console.log(1)"); // no references: its copy is the file as it is
      const save = storage.save.bind(storage);
      const hashedLogo = expected().paths["img/logo.svg"];
      jest.spyOn(storage, "save").mockImplementation(async (name, content, options) => {
        if (name === hashedLogo) await put(victim, "console.log(2) // rebuilt by a watcher");
        return save(name, content, options);
      });
      // one at a time: the logo's copy is stored before the victim's
      const summary = await collectStatic(storage, [app], { manifest: true, concurrency: 1 });
      expect(summary).toMatchObject({ failed: 1, manifestWritten: false });
      expect(summary.failures[0]).toMatchObject({
        name: victim,
        reason: expect.stringContaining("it changed after it was hashed"),
      });
      const copy = new RegExp(`^${victim.replace(/\.(\w+)$/, "\\.[0-9a-f]{12}\\.$1")}$`); // js/plain.<hash>.js
      expect((await storage.listAll()).filter((o) => copy.test(o.name))).toEqual([]);
    },
  );

  it("counts a manifest it could not write as failed instead of throwing", async () => {
    const save = storage.save.bind(storage);
    jest
      .spyOn(storage, "save")
      .mockImplementation((name, content, options) =>
        name === "staticfiles.json" ? Promise.reject(new Error("disk full")) : save(name, content, options),
      );
    const summary = await collectStatic(storage, [app], { manifest: true });
    expect(summary).toMatchObject({ copied: 6, postProcessed: 6, failed: 1, manifestWritten: false });
    expect(summary.failures[0]).toMatchObject({ name: "staticfiles.json", source: null, reason: "disk full" });
  });

  it("stores nothing in a dry run, and reports what it would", async () => {
    const summary = await collectStatic(storage, [app], { manifest: true, dryRun: true });
    expect(summary).toMatchObject({ copied: 6, postProcessed: 6, manifestWritten: true, dryRun: true });
    expect(await storage.listAll()).toEqual([]);
  });

  it("refuses a source file with the manifest's name, and a bad staticUrl", async () => {
    await put("staticfiles.json", "{}");
    const summary = await collectStatic(storage, [app], { manifest: true });
    expect(summary.failures.map((f) => f.name)).toEqual(["staticfiles.json"]);
    expect(summary.manifestWritten).toBe(false);
    await expect(collectStatic(storage, [app], { manifest: { staticUrl: "static" } })).rejects.toThrow(
      StorageConfigError,
    );
  });

  it("rewrites absolute references under staticUrl, and writes the manifest under the name given", async () => {
    await put("css/abs.css", "a { background: url(/static/img/logo.svg) } b { background: url(/other/x.png) }");
    await collectStatic(storage, [app], { manifest: { staticUrl: "/static/", name: "meta/manifest.json" } });
    const loaded = await StaticManifest.load(storage, { name: "meta/manifest.json" });
    expect((await storage.read(loaded.hashedName("css/abs.css"))).toString()).toBe(
      `a { background: url("/static/img/logo.${h(LOGO)}.svg") } b { background: url(/other/x.png) }`,
    );
  });
});

describe("collectStatic with a manifest and jsModules", () => {
  it("rewrites relative module imports in scripts only when asked, as Django's opt-in does", async () => {
    const storage = new InMemoryStorage({ baseUrl: "/static/" });
    await put(
      "js/main.js",
      'import { f } from "./util.js";\nimport("../vendor/lazy.js");\nimport { h } from "htmx";\nf();',
    );
    await put("js/util.js", "export const f = () => 1;");
    await put("vendor/lazy.js", "export default 2;");
    const plain = await collectStatic(storage, [app], { manifest: true });
    expect(plain.failed).toBe(0);
    const before = await StaticManifest.load(storage);
    expect((await storage.read(before.hashedName("js/main.js"))).toString()).toContain('from "./util.js"');

    const summary = await collectStatic(storage, [app], { manifest: { jsModules: true } });
    expect(summary.failures).toEqual([]);
    const loaded = await StaticManifest.load(storage);
    const util = `util.${h("export const f = () => 1;")}.js`;
    const lazy = `lazy.${h("export default 2;")}.js`;
    const main = `import { f } from "./${util}";\nimport("../vendor/${lazy}");\nimport { h } from "htmx";\nf();`;
    expect(loaded.hashedName("js/main.js")).toBe(`js/main.${h(main)}.js`);
    expect((await storage.read(loaded.hashedName("js/main.js"))).toString()).toBe(main);
  });
});

describe("StaticManifest", () => {
  const paths = new Map([["css/site.css", "css/site.0123456789ab.css"]]);

  it("throws FileNotFoundError for a name it lacks, or gives the unhashed URL when not strict", () => {
    const storage = new InMemoryStorage({ baseUrl: "/static/" });
    storage.name = "staticfiles";
    const strict = new StaticManifest(storage, paths);
    expect(() => strict.url("css/other.css")).toThrow(FileNotFoundError);
    expect(() => strict.url("css/other.css")).toThrow(
      'The static manifest "staticfiles.json" of storage "staticfiles" has no "css/other.css".',
    );
    expect(new StaticManifest(storage, paths, { strict: false }).url("css/other.css")).toBe("/static/css/other.css");
  });

  it("says to run collectstatic --manifest when there is no manifest", async () => {
    const storage = new InMemoryStorage();
    const error = await StaticManifest.load(storage).catch((e) => e);
    expect(error).toBeInstanceOf(FileNotFoundError);
    expect(error.message).toContain("typeorm-storages collectstatic --manifest");
    expect(error.cause).toBeInstanceOf(FileNotFoundError);
  });

  it("refuses a file that is not a manifest, and reads Django's", async () => {
    expect(() => StaticManifest.parse("nope")).toThrow(StorageConfigError);
    expect(() => StaticManifest.parse('{"version": "2.0", "paths": {}}')).toThrow(/version "2.0" is not 1.0 or 1.1/);
    expect(() => StaticManifest.parse('{"version": "1.1", "paths": {"a": 1}}')).toThrow(/"a" is not a string/);
    const django =
      '{"paths": {"admin/css/base.css": "admin/css/base.1f2e3d4c5b6a.css"}, "version": "1.1", "hash": "abc"}';
    expect(StaticManifest.parse(django).get("admin/css/base.css")).toBe("admin/css/base.1f2e3d4c5b6a.css");
  });

  it("writes the manifest as Django's json.dumps does, so its hash is the one Django computes for the same paths", () => {
    const text = StaticManifest.serialize(
      new Map([
        ["css/\u00e9.css", "css/\u00e9.0123456789ab.css"],
        ["a.js", "a.x.js"],
      ]),
    );
    // what Django's save_manifest hashes: json.dumps(sorted(hashed_files.items()))
    const sorted = '[["a.js", "a.x.js"], ["css/\\u00e9.css", "css/\\u00e9.0123456789ab.css"]]';
    expect(text).toBe(
      '{"paths": {"a.js": "a.x.js", "css/\\u00e9.css": "css/\\u00e9.0123456789ab.css"}, "version": "1.1", ' +
        `"hash": "${h(sorted)}"}`,
    );
    expect(StaticManifest.parse(text).get("css/\u00e9.css")).toBe("css/\u00e9.0123456789ab.css");
    // Python sorts by code point, where UTF-16 puts U+1F600 (a surrogate pair) before U+FF01
    const astral = StaticManifest.serialize(
      new Map([
        ["\u{1F600}.css", "\u{1F600}.a.css"],
        ["\uFF01.css", "\uFF01.b.css"],
      ]),
    );
    expect(astral).toBe(
      '{"paths": {"\\uff01.css": "\\uff01.b.css", "\\ud83d\\ude00.css": "\\ud83d\\ude00.a.css"}, "version": "1.1", ' +
        `"hash": "${h('[["\\uff01.css", "\\uff01.b.css"], ["\\ud83d\\ude00.css", "\\ud83d\\ude00.a.css"]]')}"}`,
    );
  });

  it("hashes only the path of a name with a fragment or query, keeping them as Django's url() does", () => {
    const storage = new InMemoryStorage({ baseUrl: "/static/" });
    const fonts = new Map([
      ["fonts/font.svg", "fonts/font.aaaaaaaaaaaa.svg"],
      ["fonts/font.eot", "fonts/font.bbbbbbbbbbbb.eot"],
      ["css/site.css", "css/site.0123456789ab.css"],
    ]);
    const manifest = new StaticManifest(storage, fonts);
    expect(manifest.url("fonts/font.svg#icon")).toBe("/static/fonts/font.aaaaaaaaaaaa.svg#icon");
    expect(manifest.url("css/site.css?v=1")).toBe("/static/css/site.0123456789ab.css?v=1");
    // the bulletproof @font-face hack Django keeps too
    expect(manifest.url("fonts/font.eot?#iefix")).toBe("/static/fonts/font.bbbbbbbbbbbb.eot?#iefix");
    expect(manifest.hashedName("fonts/font.svg#icon")).toBe("fonts/font.aaaaaaaaaaaa.svg#icon");
    expect(() => manifest.url("fonts/gone.svg#icon")).toThrow('has no "fonts/gone.svg"');
    expect(new StaticManifest(storage, fonts, { strict: false }).url("fonts/gone.svg#icon")).toBe(
      "/static/fonts/gone.svg#icon",
    );
  });

  it("keeps a name's query on plain URLs, and leaves it off signed ones, whose signature covers the query", async () => {
    const plain = new InMemoryStorage({ baseUrl: "/static/" });
    expect(new StaticManifest(plain, paths).url("css/site.css?v=2#top")).toBe(
      "/static/css/site.0123456789ab.css?v=2#top",
    );
    const storage = new FileSystemStorage({
      location: path.join(root, "signed"),
      baseUrl: "/private/",
      querystringAuth: true,
      signingSecret: "x".repeat(48),
    });
    await storage.save("css/site.0123456789ab.css", "a{}");
    const url = new StaticManifest(storage, paths).url("css/site.css?v=2#top");
    expect(url).toMatch(/^\/private\/css\/site\.0123456789ab\.css\?[^#]*signature=[^&#]+#top$/);
    const serve = serveFiles(storage);
    const server = createServer((req, res) => serve(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${url}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("a{}");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("typeorm-storages collectstatic --manifest", () => {
  const run = (args: string[]) =>
    runCli(["collectstatic", ...args], { env: { STATIC_ROOT: path.join(root, "static-root") }, cwd: root });

  it("stores the hashed copies and the manifest, and reports them", async () => {
    const first = await run(["app", "--manifest", "--verbose"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`stored ${expected().paths["css/site.css"]} (css/site.css)\n`);
    expect(first.stdout).toMatch(/6 hashed copies stored\n\s+0 failed\n\s+manifest written\n/);
    const again = await run(["app", "--manifest"]);
    expect(again.stdout).toMatch(/0 hashed copies stored\n\s+0 failed\n\s+manifest unchanged\n/);
    const storage = new FileSystemStorage({ location: path.join(root, "static-root") });
    expect((await StaticManifest.load(storage)).paths).toEqual(new Map(Object.entries(expected().paths)));
  });

  it("warns of a source map a library shipped without, and still writes the manifest", async () => {
    await put("js/vendor.min.js", "v()\n//# sourceMappingURL=vendor.min.js.map");
    const result = await run(["app", "--manifest"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'warning: js/vendor.min.js: its source map comment names js/vendor.min.js.map ("vendor.min.js.map"), which is not among the collected files',
    );
    expect(result.stdout).toContain("manifest written");
  });

  it("rewrites module imports with --js-modules, which goes with --manifest", async () => {
    await put("js/main.js", 'import "./util.js";');
    await put("js/util.js", "u()");
    expect((await run(["app", "--js-modules"])).code).toBe(2);
    const result = await run(["app", "--manifest", "--js-modules"]);
    expect(result.code).toBe(0);
    const storage = new FileSystemStorage({ location: path.join(root, "static-root") });
    const loaded = await StaticManifest.load(storage);
    expect((await storage.read(loaded.hashedName("js/main.js"))).toString()).toBe(`import "./util.${h("u()")}.js";`);
  });

  it("exits with 1 and keeps the manifest out when a reference is broken; 2 for manifest flags alone", async () => {
    await put("css/broken.css", "x { background: url(nope.png) }");
    const failed = await run(["app", "--manifest"]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("css/broken.css: refers to css/nope.png");
    expect(failed.stdout).toContain("manifest not written: the previous one stays in use");
    const cleared = await run(["app", "--manifest", "--clear"]);
    expect(cleared.code).toBe(1);
    expect(cleared.stdout).toContain("manifest not written, and --clear deleted the previous one");
    expect((await run(["app", "--static-url", "/static/"])).code).toBe(2);
    const badName = await run(["app", "--manifest", "--manifest-name", "../x.json"]);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain('The manifest\'s name "../x.json" cannot be a key');
  });
});

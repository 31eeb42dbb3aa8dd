import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { hashedStaticName, isHashedStaticName } from "../../src/keys/hashedStaticName";
import { findStaticReferences, rewriteReferences } from "../../src/storage/findStaticReferences";
import { hashStaticFiles } from "../../src/storage/hashStaticFiles";
import { scanScript } from "../../src/storage/scanScript";

const targets = (name: string, text: string, staticUrl?: string, jsModules?: boolean) =>
  findStaticReferences(name, text, { staticUrl, jsModules }).map((r) => r.target);

describe("findStaticReferences", () => {
  it("finds url() with any quoting, @import and source maps in a stylesheet, relative to its directory", () => {
    const css = [
      "@import 'base.css';",
      '@import url("../vendor/reset.css");',
      "a { background: url(../img/a.png) }",
      "b { background: URL( '../img/b.png' ) }",
      'c { background: url("img/c d.png") }',
      "/*# sourceMappingURL=site.css.map */",
    ].join("\n");
    expect(targets("css/site.css", css)).toEqual([
      "css/base.css",
      "vendor/reset.css",
      "img/a.png",
      "img/b.png",
      "css/img/c d.png",
      "css/site.css.map",
    ]);
  });

  it("leaves out schemes, protocol-relative and bare-fragment URLs, comments, and absolute paths outside staticUrl", () => {
    const css = [
      "a { background: url(data:image/png;base64,AAAA) }",
      "b { background: url(https://cdn.example.com/x.png) }",
      "c { background: url(//cdn.example.com/x.png) }",
      "d { filter: url(#blur) }",
      "/* e { background: url(gone.png) } */",
      "f { background: url(/elsewhere/x.png) }",
      "g { background: url(/static/img/g.png) }",
    ].join("\n");
    expect(targets("css/site.css", css)).toEqual([]);
    expect(targets("css/site.css", css, "/static/")).toEqual(["img/g.png"]);
  });

  it("finds only the source map comment in a script, and nothing in other files", () => {
    const js = "const url = 'url(x.png)';\n//# sourceMappingURL=app.js.map\n";
    expect(targets("js/app.js", js)).toEqual(["js/app.js.map"]);
    expect(targets("img/logo.svg", '<image href="a.png"/> url(a.png)')).toEqual([]);
  });

  it("leaves directories as written, and ignores url( and quotes inside comments but not a slash-star in a string", () => {
    expect(targets("css/a.css", "a { behavior: url(../img/) }")).toEqual([]);
    expect(targets("css/a.css", "/* see url( */ a { background: url(a.png) }")).toEqual(["css/a.png"]);
    expect(targets("css/a.css", 'a[title="/*"] { background: url(a.png) } b { content: "*/" }')).toEqual(["css/a.png"]);
  });

  it("finds ES module imports and exports in a script only with jsModules, as Django's support_js_module_import_aggregation", () => {
    const js = [
      'import a from "./a.js";',
      "import * as b from './b.js';",
      'import*as c from "./c.js";',
      "import {",
      "  first as one,",
      "  $second_2 as two",
      '} from "../lib/d.js";',
      'import "./e.js";',
      'export * from "./f.js";',
      'export { g } from "./g.js"',
      'const h = import("./h.js");',
      'import root from "/static/root.js";',
      "//# sourceMappingURL=app.js.map",
    ].join("\n");
    expect(targets("js/app.js", js, "/static/", true)).toEqual([
      "js/a.js",
      "js/b.js",
      "js/c.js",
      "lib/d.js",
      "js/e.js",
      "js/f.js",
      "js/g.js",
      "js/h.js",
      "root.js",
      "js/app.js.map",
    ]);
    expect(targets("js/app.js", js, "/static/")).toEqual(["js/app.js.map"]);
    expect(targets("js/app.mjs", 'export { x } from "./x.mjs";', undefined, true)).toEqual(["js/x.mjs"]);
  });

  it("leaves bare specifiers, full URLs, and imports in comments and strings as written", () => {
    const js = [
      'import { createApp } from "vue";',
      'import lodash from "https://cdn.example.com/lodash.js";',
      'import cdn from "//cdn.example.com/x.js";',
      'import data from "data:text/javascript,export default 1";',
      'const lazy = import("some-package");',
      '// import gone from "./line-comment.js";',
      '/* import "./block-comment.js";',
      '   export * from "./block-comment.js"; */',
      "const s = 'import x from \"./in-string.js\";';",
      'const t = `import("./in-template.js")`;',
      'const re = /import "/; const m = obj.import("./member.js");',
      'import other from "/elsewhere/x.js";',
      'import real from "./real.js";',
    ].join("\n");
    expect(targets("app.js", js, "/static/", true)).toEqual(["real.js"]);
  });

  it("leaves url() and @import written inside a CSS string as text, as Django does, and an escaped quote opens none", () => {
    const css = [
      'a { content: "url(not-a-file.png)"; }',
      "b { content: 'see @import \"x.css\"'; }",
      'c { background: url("data:image/svg+xml,url(%23b) url(%23c)"); }',
      ".tw\\:bg-\\[url\\(\\'x.png\\'\\)\\] { background: url(../img/real.png); }",
      "d { font-family: 'sans-serif'; background: url('real2.png') }",
      'e { content: "url("; background: url(real3.png) }',
    ].join("\n");
    expect(targets("css/a.css", css)).toEqual(["img/real.png", "css/real2.png", "css/real3.png"]);
  });

  it("gives a null target for a reference above the static root", () => {
    expect(targets("site.css", "a { background: url(../../etc/passwd) }")).toEqual([null]);
  });
});

describe("scanScript", () => {
  it("blanks comments, keeps offsets, and tells strings, templates and regular expressions from code", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a script with a template literal, as text
    const js = 'a = b / c; // x "y"\nd = /["/]/g; e = `t${"}"}`; /* f\n g */ h("i")';
    const { code, stringStarts, insideLiteral } = scanScript(js);
    expect(code).toBe(
      js.replace('// x "y"', " ".repeat(8)).replace("/* f\n g */", `${" ".repeat(4)}\n${" ".repeat(5)}`),
    );
    expect(code.length).toBe(js.length);
    expect([...stringStarts].map((at) => js[at] + js[at + 1])).toEqual(["`t", '"i']);
    expect(insideLiteral(js.indexOf('["'))).toBe(true);
    expect(insideLiteral(js.indexOf("b /"))).toBe(false);
    expect(insideLiteral(js.indexOf("h("))).toBe(false);
  });
});

describe("rewriteReferences", () => {
  it("puts the hash before the extension, keeping directories, query and fragment as written", () => {
    const css =
      "@font-face { src: url('../fonts/a.eot?#iefix') format('eot'), url(../fonts/a.woff?v=2) }\n@import 'base.css';";
    const refs = findStaticReferences("css/site.css", css);
    const out = rewriteReferences(css, refs, (target) => (target === "css/base.css" ? "bbbbbbbbbbbb" : "aaaaaaaaaaaa"));
    expect(out).toBe(
      '@font-face { src: url("../fonts/a.aaaaaaaaaaaa.eot?#iefix") format(\'eot\'), url("../fonts/a.aaaaaaaaaaaa.woff?v=2") }\n' +
        '@import url("base.bbbbbbbbbbbb.css");',
    );
  });

  it("rewrites each stretch of text once, however the patterns nest", () => {
    const css = ".a{background:url(\"x.png?@import 'y.css' @import 'z.css'\")}";
    const out = rewriteReferences(css, findStaticReferences("a.css", css), () => "0123456789ab");
    expect(out).toBe(".a{background:url(\"x.0123456789ab.png?@import 'y.css' @import 'z.css'\")}");
  });

  it("percent-encodes a double quote in a name it puts between double quotes", () => {
    const css = "a { background: url('a\"b.png') }";
    const out = rewriteReferences(css, findStaticReferences("a.css", css), () => "0123456789ab");
    expect(out).toBe('a { background: url("a%22b.0123456789ab.png") }');
  });

  it("names the hashed file by its own path when the last segment is not its name, else keeps the path as written", () => {
    const css = "a { background: url(img/a.png/.) } b { background: url(/static/img/x/../a.png) }";
    const out = rewriteReferences(
      css,
      findStaticReferences("css/s.css", css, { staticUrl: "/static/" }),
      () => "0123456789ab",
    );
    expect(out).toBe(
      'a { background: url("img/a.0123456789ab.png") } b { background: url("/static/img/x/../a.0123456789ab.png") }',
    );
  });

  it("keeps a percent-encoded name as written", () => {
    const css = "a { background: url(my%20logo.png) }";
    const out = rewriteReferences(css, findStaticReferences("x.css", css), () => "0123456789ab");
    expect(out).toBe('a { background: url("my%20logo.0123456789ab.png") }');
  });

  it("rewrites a module specifier to the hashed name between double quotes, keeping the statement as written", () => {
    const js =
      "import {\n  a,\n  b\n} from './lib/x.js?v=1';\nimport   './y.js';\nexport * from \"./z.js\"\nimport('./lazy.js')";
    const out = rewriteReferences(
      js,
      findStaticReferences("app.js", js, { jsModules: true }),
      (target) =>
        ({ "lib/x.js": "aaaaaaaaaaaa", "y.js": "bbbbbbbbbbbb", "z.js": "cccccccccccc" })[target] ?? "dddddddddddd",
    );
    expect(out).toBe(
      'import {\n  a,\n  b\n} from "./lib/x.aaaaaaaaaaaa.js?v=1";\nimport   "./y.bbbbbbbbbbbb.js";\n' +
        'export * from "./z.cccccccccccc.js"\nimport("./lazy.dddddddddddd.js")',
    );
  });

  it("names hashed copies as Django does", () => {
    expect(hashedStaticName("css/site.css", "h")).toBe("css/site.h.css");
    expect(hashedStaticName("LICENSE", "h")).toBe("LICENSE.h");
    expect(hashedStaticName("a/.htaccess", "h")).toBe("a/.htaccess.h");
    expect(hashedStaticName("v1.2/a.tar.gz", "h")).toBe("v1.2/a.tar.h.gz");
    expect(
      ["css/site.0123456789ab.css", "LICENSE.0123456789ab", "a.tar.0123456789ab.gz"].map(isHashedStaticName),
    ).toEqual([true, true, true]);
    expect(
      ["css/site.css", "site.0123456789AB.css", "site.0123456789a.css", "x.0123456789ab/site.css"].map(
        isHashedStaticName,
      ),
    ).toEqual([false, false, false, false]);
  });
});

describe("hashStaticFiles", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hash-static-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function files(contents: Record<string, string | Buffer>) {
    const list = [];
    for (const [name, content] of Object.entries(contents)) {
      const file = path.join(dir, ...name.split("/"));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
      list.push({ name, path: file });
    }
    return list;
  }
  const md5 = (text: string | Buffer) => createHash("md5").update(text).digest("hex").slice(0, 12);

  it("hashes plain files by content and stylesheets after rewriting, in dependency order", async () => {
    const list = await files({
      "css/site.css": "@import 'base.css';\nbody { background: url(../img/bg.png) }",
      "css/base.css": "h1 { background: url(../img/bg.png#top) }",
      "img/bg.png": "PNG",
    });
    const { hashed, failures } = await hashStaticFiles(list, { concurrency: 2 });
    expect(failures).toEqual([]);
    const byName = new Map(hashed.map((f) => [f.name, f]));
    const png = `img/bg.${md5("PNG")}.png`;
    expect(byName.get("img/bg.png")).toMatchObject({ hashedName: png, content: null });
    const base = `h1 { background: url("../${png}#top") }`;
    expect(byName.get("css/base.css")?.content?.toString()).toBe(base);
    expect(byName.get("css/base.css")?.hashedName).toBe(`css/base.${md5(base)}.css`);
    const site = `@import url("base.${md5(base)}.css");\nbody { background: url("../${png}") }`;
    expect(byName.get("css/site.css")?.content?.toString()).toBe(site);
    expect(byName.get("css/site.css")?.hashedName).toBe(`css/site.${md5(site)}.css`);
  });

  it("fails a file that refers to a missing file, and the files that refer to it, and hashes the rest", async () => {
    const list = await files({
      "css/a.css": "@import 'b.css';",
      "css/b.css": "x { background: url(missing.png) }",
      "css/c.css": "x { color: red }",
    });
    const { hashed, failures } = await hashStaticFiles(list, { concurrency: 1 });
    expect(hashed.map((f) => f.name)).toEqual(["css/c.css"]);
    expect(failures).toEqual(
      expect.arrayContaining([
        {
          name: "css/b.css",
          path: list[1].path,
          reason:
            'refers to css/missing.png ("missing.png"), which is not among the collected files. Fix or remove the reference, or collect the file it names.',
        },
        expect.objectContaining({
          name: "css/a.css",
          reason: expect.stringMatching(/^refers to css\/b\.css, which could not be hashed/),
        }),
      ]),
    );
  });

  it("leaves a source map comment naming a missing file as written, with a warning, and hashes the file", async () => {
    const js = "x()\n//# sourceMappingURL=vendor.min.js.map\n";
    const css = "a { background: url(x.png) }\n/*# sourceMappingURL=../maps/gone.css.map */";
    const list = await files({ "js/vendor.min.js": js, "css/v.css": css, "css/x.png": "X" });
    const { hashed, failures, warnings } = await hashStaticFiles(list, { concurrency: 1 });
    expect(failures).toEqual([]);
    const byName = new Map(hashed.map((f) => [f.name, f]));
    expect(byName.get("js/vendor.min.js")).toMatchObject({ hashedName: `js/vendor.min.${md5(js)}.js` });
    expect(byName.get("css/v.css")?.content?.toString()).toBe(
      `a { background: url("x.${md5("X")}.png") }\n/*# sourceMappingURL=../maps/gone.css.map */`,
    );
    expect(warnings).toEqual([
      {
        name: "css/v.css",
        path: list[1].path,
        reason:
          'its source map comment names maps/gone.css.map ("../maps/gone.css.map"), which is not among the collected files; the comment was left as written',
      },
      expect.objectContaining({ name: "js/vendor.min.js" }),
    ]);
  });

  it("fails the files of a cycle of references, and those above the root", async () => {
    const list = await files({
      "a.css": "@import 'b.css';",
      "b.css": "@import 'a.css';",
      "up.css": "x { background: url(../outside.png) }",
    });
    const { hashed, failures } = await hashStaticFiles(list, { concurrency: 1 });
    expect(hashed).toEqual([]);
    const reasons = Object.fromEntries(failures.map((f) => [f.name, f.reason]));
    expect(reasons["b.css"]).toMatch(/^is in a cycle of references \(a\.css → b\.css → a\.css\)/);
    expect(reasons["a.css"]).toMatch(/^refers to b\.css, which could not be hashed/);
    expect(reasons["up.css"]).toMatch(/^refers to "\.\.\/outside\.png", above the static root/);
  });

  it("hashes scripts after the modules they import with jsModules, and fails one importing a missing module", async () => {
    const list = await files({
      "js/app.js": 'import { f } from "./util.js";\nf();',
      "js/util.js": "export const f = () => 1;",
      "js/broken.js": 'import "./missing.js";',
    });
    const plain = await hashStaticFiles(list, { concurrency: 1 });
    expect(plain.failures).toEqual([]);
    const { hashed, failures } = await hashStaticFiles(list, { concurrency: 1, jsModules: true });
    const app = `import { f } from "./util.${md5("export const f = () => 1;")}.js";\nf();`;
    expect(hashed.find((f) => f.name === "js/app.js")).toMatchObject({ hashedName: `js/app.${md5(app)}.js` });
    expect(hashed.find((f) => f.name === "js/app.js")?.content?.toString()).toBe(app);
    expect(failures).toEqual([
      expect.objectContaining({ name: "js/broken.js", reason: expect.stringMatching(/^refers to js\/missing\.js/) }),
    ]);
  });

  it("hashes a stylesheet that is not UTF-8 as it is, warning when it has references, and keeps a byte order mark", async () => {
    const latin1 = Buffer.from([0x61, 0xe9, 0x7b, 0x7d]);
    const referring = Buffer.concat([
      Buffer.from("/* caf"),
      Buffer.from([0xe9]),
      Buffer.from(" */ a { background: url(x.png) }"),
    ]);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("a { background: url(x.png) }")]);
    const list = await files({ "l.css": latin1, "r.css": referring, "b.css": bom, "x.png": "X" });
    const { hashed, failures, warnings } = await hashStaticFiles(list, { concurrency: 1 });
    expect(failures).toEqual([]);
    const byName = new Map(hashed.map((f) => [f.name, f]));
    expect(byName.get("l.css")).toMatchObject({ hashedName: `l.${md5(latin1)}.css`, content: null });
    expect(byName.get("r.css")).toMatchObject({ hashedName: `r.${md5(referring)}.css`, content: null });
    expect(byName.get("b.css")?.content?.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    // Django fails such a file; its references are not rewritten here, and the warning says so
    expect(warnings).toEqual([
      {
        name: "r.css",
        path: list[1].path,
        reason:
          "it is not UTF-8, so its references to other files (x.png) were left as written. Save it as UTF-8 to have them hashed.",
      },
    ]);
  });
});

import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import * as library from "../../src";

// The TypeScript samples of the README and docs/*.md, type-checked against src/ with the settings the
// README asks users for (legacy decorators, useDefineForClassFields: false), so a renamed option or a
// changed signature fails here instead of in a reader's editor. Each sample becomes an ES module (they
// use top-level await); one without imports gets the package's exports it names, and the names a
// sample takes from its surroundings (a request, a buffer) are declared below. A sample in numbered
// steps (`// 1. ...`, `// 2. ...`) is separate handlers: each step gets its own scope.

const ROOT = join(__dirname, "..", "..");
const DOCS = ["README.md", "docs/migrating-from-django-storages.md", "docs/sync-meta.md"];

/** What a sample takes from around it, keyed by a line that identifies the sample. */
const SURROUNDINGS: Record<string, string> = {
  "await doc.attachment.save(": "declare const someBufferOrStream: Buffer;",
  "// 1. POST /uploads/direct": `
    import type { Response } from "express";
    import { lookup } from "mime-types";
    import type { Repository } from "typeorm";
    declare class Document {
      ownerId: number;
      size?: number;
      contentType?: string;
      attachment: import("typeorm-storages").FieldFile;
    }
    declare const repo: Repository<Document>;
    declare const user: { id: number };
    declare const res: Response;
    declare const filename: string;
    declare const size: number;
    declare const file: Blob;
    declare const ticket: string;
    declare const upload: import("typeorm-storages").FieldFileUpload;`,
  "await syncMetadata(storage as S3Storage": 'declare const storage: import("typeorm-storages").Storage;',
};

interface Sample {
  file: string;
  line: number;
  code: string;
}

function samples(): Sample[] {
  const found: Sample[] = [];
  for (const file of DOCS) {
    const text = readFileSync(join(ROOT, file), "utf8");
    for (const match of text.matchAll(/^( *)```ts\n([\s\S]*?)^\1```/gm)) {
      const indent = match[1].length;
      const code = match[2]
        .split("\n")
        .map((line) => line.slice(indent))
        .join("\n");
      found.push({ file, line: text.slice(0, match.index).split("\n").length, code });
    }
  }
  return found;
}

/** The sample as a module: the exports it names, what it takes from around it, its steps scoped apart. */
function moduleOf(sample: Sample): string {
  const surroundings = Object.entries(SURROUNDINGS)
    .filter(([marker]) => sample.code.includes(marker))
    .map(([, declarations]) => declarations);
  const importsItself = /^import /m.test(sample.code);
  const named = Object.keys(library).filter((name) => new RegExp(`\\b${name}\\b`).test(sample.code));
  const imports = importsItself ? [] : named;
  const steps = sample.code.split(/^(?=\/\/ \d+\. )/m);
  const body = steps.length > 1 ? steps.map((step) => `{\n${step}\n}`).join("\n") : sample.code;
  return [
    `// ${sample.file}:${sample.line}`,
    imports.length > 0 ? `import { ${imports.join(", ")} } from "typeorm-storages";` : "",
    ...surroundings,
    body,
    "export {};",
  ].join("\n");
}

describe("documentation samples", () => {
  const found = samples();

  it("finds the samples of the README and the docs", () => {
    expect(found.filter((s) => s.file === "README.md").length).toBeGreaterThanOrEqual(5);
    expect(found.filter((s) => s.file !== "README.md").length).toBeGreaterThanOrEqual(3);
  });

  it("type-check against the library with the README's tsconfig settings", async () => {
    // inside the repository, so the samples resolve typeorm, express and the rest from its node_modules
    mkdirSync(join(ROOT, ".tmp"), { recursive: true });
    const dir = mkdtempSync(join(ROOT, ".tmp", "doc-samples-"));
    try {
      mkdirSync(join(dir, "samples"));
      found.forEach((sample, i) => {
        writeFileSync(join(dir, "samples", `sample${i}.mts`), moduleOf(sample));
      });
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2023",
            lib: ["ES2023", "DOM"],
            module: "node20",
            types: ["node"],
            strict: true,
            experimentalDecorators: true,
            emitDecoratorMetadata: true,
            useDefineForClassFields: false,
            skipLibCheck: true,
            noEmit: true,
            paths: { "typeorm-storages": [join(ROOT, "src", "index.ts")] },
          },
          include: ["samples"],
        }),
      );
      const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
      const output = await promisify(execFile)(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")]).then(
        () => "",
        (error: { stdout?: string; message: string }) => error.stdout || error.message,
      );
      // name each failing sample by where it is in the docs
      const located = output.replace(/samples[\\/]sample(\d+)\.mts/g, (_, i) => {
        const sample = found[Number(i)];
        return `${sample.file} sample at line ${sample.line}`;
      });
      expect(located).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { promisify } from "node:util";

// The package as npm publishes it. The sources are copied aside with a stale file left in dist/, packed
// with `npm pack` (so `prepack` builds them), and the tarball is unpacked into throwaway consumer
// projects that take typeorm, reflect-metadata and the SDK from the repository's node_modules, as an
// app's single copy: a CommonJS and an ES-module TypeScript project type-check against it with the
// README's settings under `strict`, and an ES module runs on it. Apps and CLI commands on local disk or in
// memory load no AWS SDK module; the first S3 storage built loads it and works.

const ROOT = join(__dirname, "..", "..");
const run = promisify(execFile);
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

interface PackedFile {
  path: string;
  mode: number;
}

/** The README's tsconfig (legacy decorators, no own-property class fields), strict, no skipLibCheck. */
function tsconfig(module: "nodenext" | "esnext", moduleResolution: "nodenext" | "bundler", file: string) {
  return JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module,
      moduleResolution,
      strict: true,
      esModuleInterop: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      useDefineForClassFields: false,
      types: ["node"],
      outDir: "out",
      noEmit: moduleResolution === "bundler",
    },
    files: [file],
  });
}

/** A consumer using the README's quick start names; `demo()` saves a file and reads it back. */
const CONSUMER_TS = `
import "reflect-metadata";
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from "typeorm";
import {
  FieldFile,
  FileColumn,
  FileFieldSubscriber,
  FileNotFoundError,
  FileStorageError,
  type FileColumnOptions,
  InMemoryStorage,
  PrivateFileColumn,
  type S3StorageOptions,
  storages,
  storagesFromEnv,
} from "typeorm-storages";
import type {
  DriverBody,
  DriverMultipartOptions,
  DriverMultipartUpload,
  DriverUploadOptions,
  DriverUploadRequest,
  DriverWriteOptions,
  DriverWriteResult,
  FileSystemStorageOptions,
  InMemoryStorageOptions,
  ServeFilesRequest,
  StorageDriver,
} from "typeorm-storages";

@Entity()
export class Document {
  @PrimaryGeneratedColumn() id!: number;
  @Column() ownerId!: number;
  @FileColumn({ uploadTo: "documents/" }) attachment!: FieldFile;
  @PrivateFileColumn({ uploadTo: (doc: Document, filename) => \`users/\${doc.ownerId}/\${filename}\` })
  contract!: FieldFile;
}

export const options: FileColumnOptions = { maxSize: 1024, accept: ["image/*"] };
export const s3: Partial<S3StorageOptions> = { bucketName: "b" };
// the options of every storage class, as S3StorageOptions above
export const disk: FileSystemStorageOptions = { location: "/srv/files", baseUrl: "/files/" };
export const memory: InMemoryStorageOptions = { baseUrl: "/memory/" };
export const paths = (req: ServeFilesRequest): string | undefined => req.originalUrl ?? req.url;

// a StorageDriver of one's own (\`new Storage(driver)\`): every type its methods take and give has a name
export function counting(inner: StorageDriver, counts: Map<string, number>): StorageDriver {
  return {
    ...inner,
    kind: inner.kind,
    publicUrls: inner.publicUrls,
    write: async (key: string, body: DriverBody, options: DriverWriteOptions): Promise<DriverWriteResult> => {
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return inner.write(key, body, options);
    },
    presignUpload: (key: string, options: DriverUploadOptions): Promise<DriverUploadRequest> =>
      inner.presignUpload!(key, options),
    presignMultipartUpload: (key: string, options: DriverMultipartOptions): Promise<DriverMultipartUpload> =>
      inner.presignMultipartUpload!(key, options),
  };
}

export async function demo(): Promise<string> {
  storages.configure(process.env.USE_S3 ? storagesFromEnv() : { default: new InMemoryStorage() });
  const ds = new DataSource({ type: "sqljs", entities: [Document], subscribers: [FileFieldSubscriber], synchronize: true });
  await ds.initialize();
  const doc = Object.assign(new Document(), { ownerId: 7 });
  await doc.attachment.save("report.txt", "hello");
  const loaded = await ds.getRepository(Document).findOneByOrFail({ id: doc.id });
  const text = (await loaded.attachment.read()).toString();
  let missing = false;
  try {
    await storages.get("default").read("missing.txt");
  } catch (error) {
    missing = error instanceof FileNotFoundError && error instanceof FileStorageError;
  }
  await ds.destroy();
  return \`\${loaded.attachment.name} \${text} \${missing}\`;
}
`;

/** Plain ES module: the named imports Node finds in the CommonJS build are the very objects require() gives. */
const SAME_COPY_MJS = `
import { createRequire } from "node:module";
import * as imported from "typeorm-storages";

const required = createRequire(import.meta.url)("typeorm-storages");
const differ = Object.keys(required).filter((name) => imported[name] !== required[name]);
console.log(JSON.stringify(differ));
`;

/**
 * The AWS SDK modules (and the Smithy ones under them) this process has loaded. The package is
 * CommonJS (see the test above: an ES module gets require()'s objects), so whatever it loads, for an
 * ES-module consumer too, passes through require() and stays in its cache.
 */
const SDK_LOADED = `
const sdkLoaded = (cache) =>
  Object.keys(cache).filter((file) => /[\\\\/]node_modules[\\\\/]@(aws-sdk|smithy|aws-crypto)[\\\\/]/.test(file));
`;

/**
 * A disk-only and memory-only app: saves, opens and links a file on each storage and says which SDK
 * modules that loaded, then builds an S3 storage (no request: static keys, a local endpoint) and says
 * whether the SDK came then and the storage works: \`ready()\` asks the SDK's endpoint rules, \`url()\` signs.
 */
const diskAndMemoryApp = (imports: string) => `
${imports}
${SDK_LOADED}
const { mkdtempSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

async function useStorage(storage) {
  const name = await storage.save("notes/a.txt", "hello");
  let text = "";
  for await (const chunk of await storage.open(name)) text += chunk;
  return \`\${storage.url(name)} \${text} \${await storage.exists(name)}\`;
}

async function run() {
  const location = mkdtempSync(join(tmpdir(), "sdk-loading-"));
  try {
    const used = [
      await useStorage(new FileSystemStorage({ location, baseUrl: "/files/" })),
      await useStorage(new InMemoryStorage()),
    ];
    const before = sdkLoaded(require.cache);
    const s3 = new S3Storage({
      bucketName: "b",
      endpointUrl: "http://127.0.0.1:9",
      accessKey: "AKIAEXAMPLE",
      secretKey: "secret",
    });
    await s3.ready();
    const signed = new URL(s3.url("a.txt")).searchParams.has("X-Amz-Signature");
    const after = sdkLoaded(require.cache).length > 0;
    console.log(JSON.stringify({ used, before, after, signed, client: s3.client.constructor.name }));
  } finally {
    rmSync(location, { recursive: true, force: true });
  }
}
run();
`;

/** Preloaded into the CLI: prints, as it exits, the SDK modules the process loaded. */
const SDK_REPORT_CJS = `
${SDK_LOADED}
process.on("exit", () => process.stderr.write("SDK " + JSON.stringify(sdkLoaded(require.cache)) + "\\n"));
`;

describe("the published package", () => {
  let dir: string;
  let files: PackedFile[];
  let pkg: { main: string; types: string; bin: Record<string, string>; exports: Record<string, unknown> };
  let installed: string;

  beforeAll(async () => {
    // inside the repository, so consumers resolve typeorm and the rest from its node_modules
    mkdirSync(join(ROOT, ".tmp"), { recursive: true });
    dir = mkdtempSync(join(ROOT, ".tmp", "published-package-"));
    const source = join(dir, "source");
    for (const entry of ["src", "package.json", "tsconfig.json", "tsconfig.build.json", "README.md", "LICENSE"])
      cpSync(join(ROOT, entry), join(source, entry), { recursive: true });
    mkdirSync(join(source, "dist", "storage"), { recursive: true });
    writeFileSync(join(source, "dist", "storage", "Removed.js"), "// left by an older build\n");
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dir], { cwd: source });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf("[")));
    files = packed.files;
    pkg = JSON.parse(readFileSync(join(source, "package.json"), "utf8"));
    installed = join(dir, "consumer", "node_modules", "typeorm-storages");
    mkdirSync(installed, { recursive: true });
    await run("tar", ["xzf", join(dir, packed.filename), "-C", installed, "--strip-components=1"]);
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("holds the fresh build, the README and the licence, and nothing else", () => {
    const paths = files.map((file) => file.path);
    expect(paths).not.toContain("dist/storage/Removed.js");
    expect(paths.filter((path) => !path.startsWith("dist/")).sort()).toEqual(["LICENSE", "README.md", "package.json"]);
    expect(paths.filter((path) => !/\.(js|d\.ts|map)$/.test(path) && path.startsWith("dist/"))).toEqual([]);
    const entryPoints = [
      pkg.main,
      pkg.types,
      ...Object.values(pkg.bin),
      ...JSON.stringify(pkg.exports).match(/\.\/[^"]+/g)!,
    ];
    expect(entryPoints.map((target) => posix.normalize(target)).filter((target) => !paths.includes(target))).toEqual(
      [],
    );
  });

  it("ships no map that points at a file it does not ship", () => {
    const paths = new Set(files.map((file) => file.path));
    const dangling = files
      .filter((file) => file.path.endsWith(".map"))
      .flatMap((file) => {
        const map = JSON.parse(readFileSync(join(installed, file.path), "utf8")) as { sources: string[] };
        return map.sources
          .map((source) => posix.join(posix.dirname(file.path), source))
          .filter((source) => !paths.has(source))
          .map((source) => `${file.path} -> ${source}`);
      });
    expect(dangling).toEqual([]);
  });

  it("names no path of the machine it was built on", () => {
    const leaking = files.filter((file) => readFileSync(join(installed, file.path), "utf8").includes(ROOT));
    expect(leaking.map((file) => file.path)).toEqual([]);
  });

  it("has a bin that starts with a node shebang", () => {
    for (const bin of Object.values(pkg.bin))
      expect(readFileSync(join(installed, bin), "utf8").split("\n")[0]).toBe("#!/usr/bin/env node");
  });

  it("type-checks and runs in CommonJS and ES-module TypeScript consumers with the README's tsconfig", async () => {
    const consumer = join(dir, "consumer");
    // the app's single typeorm is the repository's, found above the consumer
    expect(existsSync(join(installed, "node_modules"))).toBe(false);
    const failures: string[] = [];
    const results: string[] = [];
    for (const [name, type, file, out] of [
      ["cjs", "commonjs", "index.ts", "out/index.js"],
      ["esm", "module", "index.mts", "out/index.mjs"],
    ]) {
      const project = join(consumer, name);
      mkdirSync(project);
      writeFileSync(join(project, "package.json"), JSON.stringify({ name, private: true, type }));
      writeFileSync(join(project, file), CONSUMER_TS);
      writeFileSync(join(project, "tsconfig.json"), tsconfig("nodenext", "nodenext", file));
      writeFileSync(join(project, "tsconfig.bundler.json"), tsconfig("esnext", "bundler", file));
      // a bundler resolves both formats alike: checked once, from the CommonJS project
      for (const config of name === "cjs" ? ["tsconfig.json", "tsconfig.bundler.json"] : ["tsconfig.json"])
        await run(process.execPath, [TSC, "-p", join(project, config)]).catch((error: { stdout?: string }) =>
          failures.push(`${name}/${config}:\n${error.stdout}`),
        );
      if (!existsSync(join(project, out))) continue;
      const script = `import(${JSON.stringify(`./${out}`)}).then((m) => m.demo()).then(console.log)`;
      const { stdout } = await run(process.execPath, ["-e", script], { cwd: project });
      results.push(`${name}: ${stdout.trim()}`);
    }
    expect(failures).toEqual([]);
    expect(results).toEqual(["cjs: documents/report.txt hello true", "esm: documents/report.txt hello true"]);
  }, 60_000);

  it("gives an ES module the same objects as require(), so instanceof holds across both", async () => {
    const project = join(dir, "consumer", "same-copy");
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "same-copy", private: true, type: "module" }));
    writeFileSync(join(project, "check.mjs"), SAME_COPY_MJS);
    const { stdout } = await run(process.execPath, [join(project, "check.mjs")], { cwd: project });
    expect(JSON.parse(stdout)).toEqual([]);
  }, 30_000);

  it("loads no AWS SDK module for disk and memory storages, in CommonJS and ES modules, until an S3 storage is built", async () => {
    const project = join(dir, "consumer", "sdk-loading");
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "sdk-loading", private: true }));
    const cjs = `const { FileSystemStorage, InMemoryStorage, S3Storage } = require("typeorm-storages");`;
    const esm = `import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
import { FileSystemStorage, InMemoryStorage, S3Storage } from "typeorm-storages";`;
    writeFileSync(join(project, "app.cjs"), diskAndMemoryApp(cjs));
    writeFileSync(join(project, "app.mjs"), diskAndMemoryApp(esm));
    for (const app of ["app.cjs", "app.mjs"]) {
      const { stdout } = await run(process.execPath, [join(project, app)], { cwd: project });
      expect({ app, ...JSON.parse(stdout) }).toEqual({
        app,
        used: ["/files/notes/a.txt hello true", "/media/notes/a.txt hello true"],
        before: [],
        after: true,
        signed: true,
        client: "S3Client",
      });
    }
  }, 30_000);

  it("starts its CLI without the AWS SDK for storages on local disk", async () => {
    const project = join(dir, "consumer", "cli-on-disk");
    mkdirSync(join(project, "assets"), { recursive: true });
    writeFileSync(join(project, "assets", "site.css"), "body {}");
    writeFileSync(join(project, "sdk-report.cjs"), SDK_REPORT_CJS);
    const bin = join(installed, pkg.bin["typeorm-storages"]);
    const env = { PATH: process.env.PATH ?? "", STORAGES_SIGNING_SECRET: "x".repeat(48) };
    for (const command of [["check"], ["collectstatic", "assets"]]) {
      const { stdout, stderr } = await run(
        process.execPath,
        ["--require", join(project, "sdk-report.cjs"), bin, ...command],
        { cwd: project, env },
      );
      expect({ command: command[0], ok: !stdout.includes("FAILED"), stderr }).toEqual({
        command: command[0],
        ok: true,
        stderr: "SDK []\n",
      });
    }
  }, 30_000);
});

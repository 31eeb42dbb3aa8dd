import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const root = path.join(__dirname, "..", "..");
const mainJs = path.join(root, "dist", "cli", "main.js");

describe("typeorm-storages as a process (the compiled CLI)", () => {
  let dir: string;
  beforeAll(async () => {
    // The CLI under test is the build output: what reaches the process's own streams.
    await promisify(execFile)(
      process.execPath,
      [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
      {
        cwd: root,
      },
    );
    dir = await mkdtemp(path.join(tmpdir(), "cli-process-"));
    await mkdir(path.join(dir, "public"));
    for (let i = 0; i < 2000; i++) await writeFile(path.join(dir, "public", `f${i}.txt`), `${i}`);
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("stops as at Ctrl-C, without a crash, when the reader of its output goes away (| head)", async () => {
    const child = spawn(process.execPath, [mainJs, "collectstatic", "public", "--verbose", "--concurrency", "1"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", STATIC_ROOT: path.join(dir, "out") },
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    // `head -1`: read the first lines, then close the pipe
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(130);
    expect((await readdir(path.join(dir, "out"))).length).toBeLessThan(2000);
  }, 60_000);
});

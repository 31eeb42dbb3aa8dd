import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const DIST = path.join(__dirname, "..", "dist");
let dataDir: string;
/** Script text: opens the app's SQLite DataSource in `dataDir`, as the app does at start, and resolves with it. */
const open = () => `(() => {
  require("reflect-metadata");
  const { createDataSource } = require(${JSON.stringify(path.join(DIST, "dataSource.js"))});
  const { readConfig } = require(${JSON.stringify(path.join(DIST, "config.js"))});
  return createDataSource(readConfig({ DATA_DIR: ${JSON.stringify(dataDir)} })).dataSource.initialize();
})()`;

/**
 * A child process that opens the app's SQLite DataSource and inserts rows of `rowBytes`
 * bytes one after the other, printing "saved <n>" once each insert (and so its save) has returned.
 */
function startWriter(rowBytes: number): ChildProcess {
  const script = `
    ${open()}.then(async (dataSource) => {
      for (let n = 1; ; n++) {
        await dataSource.query(
          "INSERT INTO upload (title, visibility, publicFile, originalName, size, contentType) VALUES (?, 'public', ?, '', ?, 'text/plain')",
          [String(n).padEnd(${rowBytes}, "x"), "uploads/" + n + ".txt", n],
        );
        process.stdout.write("saved " + n + "\\n");
      }
    });`;
  return spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
}

describe("the SQLite file (sql.js)", () => {
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "example-app-sqlite-"));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  test("holds every row whose save returned when the process is killed (kill -9) in the middle of the next save", async () => {
    if (!fs.existsSync(path.join(DIST, "dataSource.js")))
      throw new Error("run `npm run --workspace example-app build` first");
    const child = startWriter(4 * 1024 * 1024);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    // once three rows are saved, the child is killed as soon as anything in DATA_DIR changes: the
    // fourth save has started writing
    const listing = () =>
      fs
        .readdirSync(dataDir)
        .map((name) => {
          const stat = fs.statSync(path.join(dataDir, name), { throwIfNoEntry: false });
          return `${name}:${stat?.size}:${stat?.mtimeMs}`;
        })
        .join("|");
    let output = "";
    await new Promise<void>((resolve) => {
      child.stdout?.on("data", function onData(chunk) {
        output += chunk;
        if (!/saved 3\n/.test(output)) return;
        child.stdout?.off("data", onData);
        const before = listing();
        const poll = setInterval(() => {
          if (listing() === before) return;
          clearInterval(poll);
          resolve();
        }, 1);
      });
    });
    child.kill("SIGKILL");
    await exited;

    // what the app finds on its next start: the rows of every save that returned, and no leftover copy
    const restarted = spawnSync(
      process.execPath,
      ["-e", `${open()}.then((ds) => ds.query("SELECT count(*) AS n FROM upload")).then(([{ n }]) => console.log(n))`],
      { encoding: "utf8" },
    );
    expect(restarted.stderr).toBe("");
    expect(Number(restarted.stdout)).toBeGreaterThanOrEqual(3);
    expect(fs.readdirSync(dataDir).filter((name) => name.includes("app.sqlite"))).toEqual(["app.sqlite"]);
  });
});

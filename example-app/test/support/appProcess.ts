import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const SERVER = path.join(__dirname, "..", "..", "dist", "server.js");

/** Variables a developer's shell may carry that would point the app elsewhere than the test asks. */
const INHERITED =
  /^(AWS_|USE_S3$|DATABASE_|DATA_DIR$|MEDIA_|PRIVATE_MEDIA_|STATIC_|EMBEDDED_S3|CREATE_BUCKET$|UPLOAD_MAX_BYTES$|STORAGES_SIGNING_SECRET$|S3_|PORT$|HOST$)/;

/** The example app running as a child process on 127.0.0.1. */
export interface AppProcess {
  url: string;
  dataDir: string;
  /** Everything the app printed so far (stdout and stderr). */
  output(): string;
  /** Sends `signal` to the app (SIGTERM, SIGINT) without waiting for it to exit. */
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the exit code once the app exited. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Starts `dist/server.js` on a free port of 127.0.0.1 with a fresh `DATA_DIR` and `env` on top of a
 * cleaned environment, and resolves with its address once it prints "listening on".
 */
export async function startApp(env: Record<string, string>): Promise<AppProcess> {
  if (!fs.existsSync(SERVER))
    throw new Error(`${SERVER} is missing: run \`npm run --workspace example-app build\` first.`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "example-app-e2e-"));
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !INHERITED.test(name)));
  const child: ChildProcess = spawn(process.execPath, [SERVER], {
    env: { ...base, HOST: "127.0.0.1", PORT: "0", DATA_DIR: dataDir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The app did not start within 20 s:\n${output}`)), 20000);
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`The app exited with code ${code} before listening:\n${output}`));
    });
  });
  return {
    url,
    dataDir,
    output: () => output,
    signal: (signal) => child.kill(signal),
    exited,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

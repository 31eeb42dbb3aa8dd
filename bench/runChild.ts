import { fork } from "node:child_process";
import path from "node:path";
import type { ChildResult, ChildTask } from "./child";
import type { Measurement } from "./figure";

/** Longest a child may take: a 2 GiB multipart upload on a slow, shared machine. */
const CHILD_TIMEOUT_MS = 20 * 60 * 1000;

/** Runs `task` in a fresh child process and resolves with its measurements; rejects with its error. */
export function runChild(task: ChildTask): Promise<Record<string, Measurement>> {
  const child = fork(path.join(__dirname, "child.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    let result: ChildResult | null = null;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`${task.group}/${task.phase}/${task.path} took longer than ${CHILD_TIMEOUT_MS / 60000} minutes`),
      );
    }, CHILD_TIMEOUT_MS);
    child.on("message", (message) => {
      result = message as ChildResult;
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (result?.ok) resolve(result.measurements);
      else if (result) reject(new Error(`${task.group}/${task.phase}/${task.path} failed:\n${result.error}`));
      else reject(new Error(`${task.group}/${task.phase}/${task.path} exited (${signal ?? code}) without a result`));
    });
    child.send(task);
  });
}

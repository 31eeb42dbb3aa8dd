import { main } from "../../src/cli/main";

/** Runs the `typeorm-storages` command line in-process and resolves with its exit code and output. */
export async function runCli(
  argv: string[],
  { env = {}, cwd, signal }: { env?: Record<string, string | undefined>; cwd: string; signal?: AbortSignal },
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
    cwd,
    signal,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat times: 100 on every Linux Node supports (USER_HZ). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system) another process has used so far, in milliseconds, from /proc/<pid>/stat;
 * null when it cannot be read (not Linux, process gone). Resolution: 10 ms.
 */
export function processCpuMs(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** CPU time (user + system) this process has used so far, in milliseconds. */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

import { readFileSync } from "node:fs";

/**
 * This process's peak resident set size in MiB. On Linux it is `VmHWM` from /proc/self/status: the
 * high-water mark of the address space, which starts afresh at exec. Not `process.resourceUsage().maxRSS`
 * (getrusage's `ru_maxrss`, in KiB), which Linux carries across fork and exec: a child forked by a
 * parent of 130 MiB reports at least about that much however little it uses itself, so it would hide
 * both paths' real peaks under the orchestrator's. Elsewhere (no /proc), falls back to `maxRSS`.
 */
export function peakRssMiB(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "latin1"));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // no procfs: fall through
  }
  return process.resourceUsage().maxRSS / 1024;
}

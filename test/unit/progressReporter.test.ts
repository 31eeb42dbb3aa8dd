import { ProgressReporter } from "../../src/cli/ProgressReporter";
import type { SyncMetadataProgress } from "../../src/storage/syncMetadata";

const progress = (p: Partial<SyncMetadataProgress>): SyncMetadataProgress => ({
  listed: 0,
  listingComplete: false,
  examined: 0,
  updated: 0,
  unchanged: 0,
  missing: 0,
  failed: 0,
  ...p,
});

function stream(isTTY: boolean) {
  const written: string[] = [];
  return { written, isTTY, columns: 120, write: (chunk: string) => written.push(chunk) };
}

describe("ProgressReporter", () => {
  it("writes a plain line per interval when stderr is not a terminal", () => {
    let now = 0;
    const out = stream(false);
    const reporter = new ProgressReporter(out, { label: "sync-meta", intervalMs: 5000, now: () => now });
    now = 4000;
    reporter.update(progress({ listed: 1000, examined: 400, updated: 300, unchanged: 99, failed: 1 }));
    expect(out.written).toEqual([]);
    now = 5000;
    reporter.update(
      progress({ listed: 1005, listingComplete: true, examined: 500, updated: 400, unchanged: 99, failed: 1 }),
    );
    expect(out.written).toEqual(["sync-meta: 500/1005 examined (400 updated, 99 unchanged, 1 failed), 100/s\n"]);
    reporter.finish();
    expect(out.written).toHaveLength(1);
  });

  it("redraws a bar in place on a terminal once the total is known, and erases it for other output", () => {
    let now = 0;
    const out = stream(true);
    const reporter = new ProgressReporter(out, { label: "sync-meta", now: () => now });
    now = 200;
    reporter.update(progress({ listed: 1000, examined: 10, unchanged: 10 }));
    expect(out.written.at(-1)).toBe("\r\x1b[2Ksync-meta 10/1000+ examined (0 updated, 10 unchanged, 0 failed), 50/s");
    now = 250;
    reporter.update(progress({ listed: 1000, examined: 11, unchanged: 11 }));
    expect(out.written).toHaveLength(1);
    now = 400;
    reporter.update(progress({ listed: 40, listingComplete: true, examined: 10, missing: 1, updated: 9 }));
    const bar = out.written.at(-1) ?? "";
    expect(bar.startsWith("\r\x1b[2Ksync-meta [")).toBe(true);
    expect(bar).toMatch(/\[#+-+\] {2}25% 10\/40 examined \(9 updated, 0 unchanged, 1 missing, 0 failed\)/);
    reporter.clear();
    expect(out.written.at(-1)).toBe("\r\x1b[2K");
    reporter.clear();
    expect(out.written).toHaveLength(3);
  });
});

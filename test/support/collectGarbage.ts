import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/*
 * For tests that something is let go of (a long-running process must not keep it): `global.gc` under
 * `node --expose-gc`, else the same function turned on for this process through V8's flags (a fresh
 * context then exposes it). Undefined where neither works: such tests are skipped, saying so.
 */
function garbageCollector(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString("--expose-gc");
    return runInNewContext("gc") as () => void;
  } catch {
    return undefined;
  }
}

const gc = garbageCollector();

/** `describe`, or `describe.skip` with a warning where garbage cannot be collected on demand. */
export function describeWithGc(name: string, body: () => void): void {
  if (gc) {
    describe(name, body);
    return;
  }
  console.warn(`"${name}" skipped: run jest under \`node --expose-gc\` to collect garbage in tests.`);
  describe.skip(name, body);
}

/** Lets the current job end (WeakRefs made in it keep their targets until then), collects, runs finalizers. */
export async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc?.();
  }
  await new Promise((resolve) => setImmediate(resolve));
}

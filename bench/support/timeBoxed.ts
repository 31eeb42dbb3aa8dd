/** Calls made and seconds spent by a time-boxed loop. */
export interface LoopResult {
  calls: number;
  seconds: number;
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

/**
 * Calls `fn(i)` in batches of `batch` until at least `seconds` have passed. The lengths of the results
 * are summed into a value the caller keeps, so the optimiser cannot drop the calls.
 */
export function loopSync(seconds: number, fn: (i: number) => string, batch = 1000): LoopResult & { sink: number } {
  let calls = 0;
  let sink = 0;
  const start = now();
  let elapsed = 0;
  do {
    for (let j = 0; j < batch; j++) sink += fn(calls++).length;
    elapsed = now() - start;
  } while (elapsed < seconds);
  return { calls, seconds: elapsed, sink };
}

/** `loopSync` for an async `fn`, awaited one call at a time. */
export async function loopAsync(
  seconds: number,
  fn: (i: number) => Promise<string>,
  batch = 20,
): Promise<LoopResult & { sink: number }> {
  let calls = 0;
  let sink = 0;
  const start = now();
  let elapsed = 0;
  do {
    for (let j = 0; j < batch; j++) sink += (await fn(calls++)).length;
    elapsed = now() - start;
  } while (elapsed < seconds);
  return { calls, seconds: elapsed, sink };
}

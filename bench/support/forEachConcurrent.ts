/** Runs `op(0)` … `op(count - 1)` with at most `concurrency` in flight; rejects with the first failure. */
export async function forEachConcurrent(
  count: number,
  concurrency: number,
  op: (index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

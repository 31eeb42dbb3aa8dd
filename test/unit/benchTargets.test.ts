// The benchmark's verdicts (bench/targets.ts) as issue #5 words them: what a figure must show to be "met".
import { parseArgs } from "../../bench/config";
import type { Measurement } from "../../bench/figure";
import { streamGroup } from "../../bench/figures/streaming";
import { summarize } from "../../bench/stats";
import { hydrationTarget } from "../../bench/targets";

const rounds = (values: number[], requests?: number[]): Measurement[] =>
  values.map((value, i) => (requests ? { value, requestsPerOp: requests[i] } : { value }));

describe("bench targets", () => {
  it("hydration's 0 requests holds only when no round made one, whatever the median", () => {
    const figure = { id: "hydrate", label: "", unit: "ms", better: "lower", lib: "", raw: "" } as const;
    const plain = rounds([10, 10, 10]);
    const clean = summarize(figure, rounds([10, 10, 10], [0, 0, 0]), plain);
    const oneRound = summarize(figure, rounds([10, 10, 10], [0, 0.03, 0]), plain);
    expect(hydrationTarget.met(clean, new Map())).toBe(true);
    expect(oneRound.libRequests).toBe(0);
    expect(hydrationTarget.met(oneRound, new Map())).toBe(false);
  });

  it("streaming save and read need the same requests per operation as the raw path, not only 0.9×", () => {
    const config = parseArgs(["--quick"]);
    const group = streamGroup(config, config.streamSizes[0], null);
    for (const id of ["stream.save.16MiB", "stream.read.16MiB"]) {
      const figure = group.figures.find((f) => f.id === id);
      if (!figure?.target) throw new Error(`${id} has no target`);
      const same = summarize(figure, rounds([100], [4]), rounds([100], [4]));
      const more = summarize(figure, rounds([100], [5]), rounds([100], [4]));
      expect(figure.target.met(same, new Map())).toBe(true);
      expect(figure.target.met(more, new Map())).toBe(false);
    }
  });
});

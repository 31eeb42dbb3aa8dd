import type { FigureSummary, Target } from "./figure";
import { spread } from "./stats";

const medianAdvantage = (s: FigureSummary) => spread(s.advantage).median;

/** The library is at least `factor` times better than the raw path (median of per-round ratios). */
export function advantageAtLeast(factor: number, text: string): Target {
  return { text, met: (s) => medianAdvantage(s) >= factor };
}

/** An I/O figure: at least 0.9× the raw path's throughput with the same number of requests per op. */
export const ioTarget: Target = {
  text: "≥ 0.9×, same req/op",
  met: (s) => medianAdvantage(s) >= 0.9 && s.libRequests === s.rawRequests,
};

/** The library's median is at most `value` (in the figure's unit). */
export function libAtMost(value: number, text: string): Target {
  return { text, met: (s) => spread(s.lib).median <= value };
}

/** Hydration: at most 1.15× the time of plain columns, and no request to S3 at all, in any round. */
export const hydrationTarget: Target = {
  text: "time ≤ 1.15× plain, 0 req",
  met: (s) => medianAdvantage(s) >= 1 / 1.15 && s.libRequestsMax === 0,
};

/** How much higher a larger file's peak RSS may be than a smaller one's and still count as "no higher". */
const RSS_NOISE = 1.05;

/**
 * Peak RSS at most 1.2× the raw path's and, for the larger file, no higher (within 5 % of noise) than
 * the library's peak for the smaller file (`smallerId`, the sibling figure).
 */
export function rssTarget(smallerId: string | null, smallerLabel: string): Target {
  return {
    text: smallerId ? `≤ 1.2× raw, ≤ ${smallerLabel}'s` : "≤ 1.2× raw",
    met: (s, all) => {
      if (medianAdvantage(s) < 1 / 1.2) return false;
      const smaller = smallerId ? all.get(smallerId) : undefined;
      return !smaller || spread(s.lib).median <= spread(smaller.lib).median * RSS_NOISE;
    },
  };
}

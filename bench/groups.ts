import type { BenchConfig } from "./config";
import type { FigureGroup } from "./figure";
import { hydrationGroup } from "./figures/hydration";
import { listingGroup } from "./figures/listing";
import { smallObjectsGroup } from "./figures/smallObjects";
import { streamGroup } from "./figures/streaming";
import { urlGroup } from "./figures/urls";

/** Every figure group of a run, in the order they run and print. */
export function allGroups(config: BenchConfig): FigureGroup[] {
  const streams = config.streamSizes.map((size, i) => streamGroup(config, size, i ? config.streamSizes[i - 1] : null));
  return [urlGroup, hydrationGroup(config), smallObjectsGroup(config), listingGroup(config), ...streams];
}

import type { ResolvedAggregation } from "../registry/aggregation-view.js";
import { meanTileFields, tileField, watermarkField } from "./redis-fields.js";
import { windowTiles } from "./window-math.js";

/**
 * The hash fields a read at `nowMs` needs, in one HMGET: the watermark first, then each
 * aggregation's tiles of the window, oldest first (a mean's tile as count then sum).
 * computeAggregates folds the replies in this order.
 */
export function aggregateFields(
  viewKey: string,
  aggregations: readonly ResolvedAggregation[],
  nowMs: number,
): string[] {
  const fields = [watermarkField(viewKey)];
  for (const agg of aggregations) {
    const { first, last } = windowTiles(nowMs, agg.windowMs, agg.tileMs);
    for (let k = first; k <= last; k++) {
      if (agg.function === "mean") {
        const { count, sum } = meanTileFields(viewKey, agg.name, k);
        fields.push(count, sum);
      } else {
        fields.push(tileField(viewKey, agg.name, k));
      }
    }
  }
  return fields;
}

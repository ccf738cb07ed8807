import { show, StrataError } from "../errors.js";
import type { FeatureRegistry } from "../registry/feature-registry.js";

/**
 * Backfills write stored values into a new generation; an aggregation view has neither (its
 * one generation holds tiles built from events, exactly once per source offset), so a
 * backfill of one is refused before anything starts.
 */
export function refuseAggregationView(registry: FeatureRegistry, viewRef: string): void {
  if (!registry.isAggregationView(viewRef)) return;
  throw new StrataError(
    "STRATA_E_AGGREGATION_VIEW_UNSUPPORTED",
    `${show(viewRef)} is an aggregation view, which cannot be backfilled: its tiles are built from its events (replay them through its source instead)`,
    { view: viewRef, operation: "backfill" },
  );
}

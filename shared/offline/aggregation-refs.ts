import type { ResolvedFeatureRef, ResolvedView } from "../registry/index.js";
import type { OfflineAggregation, OfflineAggregationView } from "./aggregation-sql.js";

const views = new WeakMap<ResolvedView, OfflineAggregationView>();

/**
 * A feature reference's aggregation as the offline query needs it (`view:aggName` of an
 * aggregation view); undefined for a reference to a plain feature view.
 */
export function offlineAggregationRef(
  ref: ResolvedFeatureRef,
): { view: OfflineAggregationView; aggregation: OfflineAggregation } | undefined {
  const spec = ref.view.aggregation;
  if (!spec) return undefined;
  let view = views.get(ref.view);
  if (!view) {
    view = {
      key: ref.view.key,
      joinKeys: ref.view.joinKeys,
      inputs: new Map(spec.inputs.map((i) => [i.name, i.type])),
      allowedLatenessMs: spec.allowedLatenessMs,
    };
    views.set(ref.view, view);
  }
  const found = spec.aggregations[ref.index]!;
  return {
    view,
    aggregation: {
      name: found.name,
      function: found.function,
      ...(found.column ? { column: found.column.name } : {}),
      ...(found.function === "last_n" ? { n: found.n } : {}),
      windowMs: found.windowMs,
      tileMs: found.tileMs,
    },
  };
}

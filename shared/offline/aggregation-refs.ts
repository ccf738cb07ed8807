import type { ResolvedFeatureRef, ResolvedView } from "../registry/index.js";
import type { ScalarType } from "../registry/feature-types.js";
import type { OfflineAggregation, OfflineAggregationView } from "./aggregation-sql.js";

/** What the registry resolves an aggregation view's spec to (shared/registry/aggregation-view.ts). */
interface AggregationSpecLike {
  inputs: readonly { name: string; type: ScalarType }[];
  aggregations: readonly {
    name: string;
    function: OfflineAggregation["function"];
    column?: { name: string };
    n: number;
    windowMs: number;
    tileMs: number;
  }[];
  allowedLatenessMs: number;
}

function specOf(view: ResolvedView): AggregationSpecLike | undefined {
  return (view as ResolvedView & { aggregation?: AggregationSpecLike }).aggregation;
}

const views = new WeakMap<ResolvedView, OfflineAggregationView>();

/**
 * A feature reference's aggregation, as the offline query needs it; undefined for a
 * reference to a plain feature view.
 */
export function offlineAggregationRef(
  ref: ResolvedFeatureRef,
): { view: OfflineAggregationView; aggregation: OfflineAggregation } | undefined {
  const spec = specOf(ref.view);
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
  const found = spec.aggregations.find((a) => a.name === ref.feature.name)!;
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

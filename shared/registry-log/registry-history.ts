import type { FeatureRepoDefinition } from "../registry/definitions.js";
import { FeatureRegistry, type ResolvedView } from "../registry/feature-registry.js";
import type { PlanChange } from "./registry-diff.js";

/** A registry published earlier: what its majors stored, in the keys and types of that time. */
export interface HistoricalDefinition {
  version: number;
  definition: FeatureRepoDefinition;
}

/**
 * Marks incompatible the additions that bring back a major or a feature an earlier published
 * registry had with other join keys or another type. Redis keeps what a removed major or
 * feature stored (nothing deletes it), so re-adding it differently would read those values
 * with the wrong keys or type. Compares with the newest earlier registry that had the major
 * (for join keys) or the feature (for its type). `history` in any order.
 */
export function flagReuse(
  changes: PlanChange[],
  history: readonly HistoricalDefinition[],
  after: FeatureRegistry,
): void {
  const added = changes.filter(
    (c) => c.action === "add" && (c.kind === "view" || c.kind === "feature"),
  );
  if (added.length === 0 || history.length === 0) return;
  const past = [...history]
    .sort((a, b) => b.version - a.version)
    .map((h) => ({ version: h.version, registry: new FeatureRegistry(h.definition) }));
  for (const change of added) {
    const [key, featureName] = change.subject.split(":") as [string, string | undefined];
    const [name, major] = key.split("@") as [string, string];
    const now = after.findView(name, Number(major))!;
    const reasons: string[] = [];
    const features =
      featureName === undefined ? now.features : now.features.filter((f) => f.name === featureName);
    if (featureName === undefined) {
      const before = past.find((p) => p.registry.findView(name, Number(major)));
      const then = before?.registry.findView(name, Number(major));
      if (before && then && keysOf(then) !== keysOf(now)) {
        reasons.push(
          `${key} was published in version ${before.version} keyed by ${keysOf(then)}: the rows it stored would not be found under ${keysOf(now)}`,
        );
      }
    }
    for (const feature of features) {
      const before = past.find((p) =>
        p.registry.findView(name, Number(major))?.featureIndex.has(feature.name),
      );
      const then = before?.registry.findView(name, Number(major));
      const old = then?.features[then.featureIndex.get(feature.name)!];
      if (before && old && old.type !== feature.type) {
        reasons.push(
          `${key}:${feature.name} was published in version ${before.version} as ${old.type}: the values it stored would be read as ${feature.type}`,
        );
      }
    }
    if (reasons.length > 0) change.incompatible = [...(change.incompatible ?? []), ...reasons];
  }
}

function keysOf(view: ResolvedView): string {
  return `${view.entitySet} (${view.joinKeys.map((k) => `${k.name} ${k.type}`).join(", ")})`;
}

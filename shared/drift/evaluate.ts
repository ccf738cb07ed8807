import {
  bucketCount,
  DEFAULT_THRESHOLDS,
  type BaselineFeature,
  type DriftBaseline,
  type DriftThresholds,
} from "./baseline.js";
import { ALL_REGIONS } from "./metric-names.js";
import { DEFAULT_EPSILON, driftScores, type DriftScores } from "./statistics.js";

/** A feature's or model's verdict. `insufficient`: fewer values than minCount, nothing decided. */
export type DriftLevel = "ok" | "warn" | "alert" | "insufficient";
export type ModelStatus = "ok" | "warn" | "alert" | "empty";

export interface EvaluateOptions {
  /** Thresholds where the baseline's feature sets none. */
  thresholds?: DriftThresholds;
  epsilon?: number;
  /** A region (or all regions) with fewer values than this for a feature decides nothing for it. */
  minCount?: number;
}

/** Fewer sampled values than this say little about a distribution of ~10 buckets. */
export const DEFAULT_MIN_COUNT = 100;

export interface Crossing {
  region: string;
  statistic: "psi" | "js" | "kl";
  score: number;
  threshold: number;
  level: "warn" | "alert";
}

export interface RegionScore extends Partial<DriftScores> {
  count: number;
  /** Observed values per bucket (the null bucket last). */
  counts: number[];
  level: DriftLevel;
}

export interface FeatureEvaluation {
  name: string;
  kind: BaselineFeature["kind"];
  level: DriftLevel;
  /** Per region and `all` (the regions summed). */
  regions: Record<string, RegionScore>;
  crossings: Crossing[];
}

export interface ModelEvaluation {
  model: string;
  modelVersion: string;
  featureService: string;
  baselineVersion: string;
  status: ModelStatus;
  /** Why, in words: the crossings, or why nothing was decided. */
  reason: string;
  /** Values observed in the window, all features and regions. */
  observed: number;
  /** Features at alert level, for the retraining workflow. */
  drifted: string[];
  features: FeatureEvaluation[];
}

/** Counts per feature, per region, per bucket, as the Prometheus query returns them. */
export type WindowCounts = Map<string, Map<string, number[]>>;

/**
 * Folds `(feature, region, bucket) -> count` samples into per-bucket arrays for the baseline's
 * features. Samples of features or buckets the baseline does not have are returned as
 * `unmatched` (serving recording with other edges shows up here, never in a score).
 */
export function windowCounts(
  baseline: DriftBaseline,
  samples: Iterable<{ feature: string; region: string; bucket: string; count: number }>,
): { counts: WindowCounts; unmatched: number } {
  const byName = new Map(baseline.features.map((f) => [f.name, f]));
  const counts: WindowCounts = new Map();
  let unmatched = 0;
  for (const { feature, region, bucket, count } of samples) {
    const f = byName.get(feature);
    const index = Number(bucket);
    if (
      !f ||
      !Number.isInteger(index) ||
      index < 0 ||
      index >= bucketCount(f) ||
      bucket !== String(index)
    ) {
      unmatched += count;
      continue;
    }
    let regions = counts.get(feature);
    if (!regions) counts.set(feature, (regions = new Map<string, number[]>()));
    let buckets = regions.get(region);
    if (!buckets) regions.set(region, (buckets = new Array<number>(bucketCount(f)).fill(0)));
    // increase() extrapolates, so counts are real numbers; a counter reset can make them tiny negatives.
    buckets[index]! += Math.max(0, count);
  }
  return { counts, unmatched };
}

/** Scores every feature of a baseline per region and across regions, and decides. */
export function evaluateModel(
  baseline: DriftBaseline,
  counts: WindowCounts,
  options: EvaluateOptions = {},
): ModelEvaluation {
  const minCount = options.minCount ?? DEFAULT_MIN_COUNT;
  const features = baseline.features.map((feature) =>
    evaluateFeature(feature, counts.get(feature.name), minCount, options),
  );
  const observed = features.reduce((sum, f) => sum + (f.regions[ALL_REGIONS]?.count ?? 0), 0);
  const drifted = features.filter((f) => f.level === "alert").map((f) => f.name);
  const decided = features.filter((f) => f.level !== "insufficient");
  const common = {
    model: baseline.model,
    modelVersion: baseline.modelVersion,
    featureService: baseline.featureService,
    baselineVersion: baseline.baselineVersion,
    observed,
    drifted,
    features,
  };
  if (decided.length === 0) {
    return {
      ...common,
      status: "empty",
      reason:
        observed === 0
          ? "no values observed in the window: no decision"
          : `too few values observed in the window (no feature reached ${minCount}): no decision`,
    };
  }
  const crossings = features.flatMap((f) => f.crossings.map((c) => ({ feature: f.name, ...c })));
  const alerts = crossings.filter((c) => c.level === "alert");
  const warns = crossings.filter((c) => c.level === "warn");
  const describe = (list: typeof crossings): string =>
    list
      .slice(0, 5)
      .map((c) => `${c.feature} ${c.statistic}=${c.score.toFixed(3)} (${c.region})`)
      .join(", ") + (list.length > 5 ? `, and ${list.length - 5} more` : "");
  if (alerts.length > 0) {
    return { ...common, status: "alert", reason: `alert: ${describe(alerts)}` };
  }
  if (warns.length > 0) return { ...common, status: "warn", reason: `warn: ${describe(warns)}` };
  const skipped = features.length - decided.length;
  return {
    ...common,
    status: "ok",
    reason: `within thresholds (${decided.length} feature(s) scored${skipped ? `, ${skipped} with too few values` : ""})`,
  };
}

function evaluateFeature(
  feature: BaselineFeature,
  byRegion: Map<string, number[]> | undefined,
  minCount: number,
  options: EvaluateOptions,
): FeatureEvaluation {
  const size = bucketCount(feature);
  const all = new Array<number>(size).fill(0);
  const regionCounts = [...(byRegion ?? new Map<string, number[]>()).entries()].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  for (const [, buckets] of regionCounts) buckets.forEach((c, i) => (all[i]! += c));
  const thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds, ...feature.thresholds };
  const regions: Record<string, RegionScore> = {};
  const crossings: Crossing[] = [];
  for (const [region, buckets] of [[ALL_REGIONS, all] as const, ...regionCounts]) {
    const count = buckets.reduce((a, b) => a + b, 0);
    const scores =
      count >= minCount && count > 0
        ? driftScores(feature.expected, buckets, options.epsilon ?? DEFAULT_EPSILON)
        : undefined;
    if (!scores) {
      regions[region] = { count, counts: [...buckets], level: "insufficient" };
      continue;
    }
    const here: Crossing[] = [];
    const check = (
      statistic: Crossing["statistic"],
      level: Crossing["level"],
      threshold: number | undefined,
    ): void => {
      if (threshold !== undefined && scores[statistic] >= threshold) {
        here.push({ region, statistic, score: scores[statistic], threshold, level });
      }
    };
    check("psi", "alert", thresholds.psiAlert);
    check("js", "alert", thresholds.jsAlert);
    check("kl", "alert", thresholds.klAlert);
    if (!here.some((c) => c.statistic === "psi")) check("psi", "warn", thresholds.psiWarn);
    const level = here.some((c) => c.level === "alert") ? "alert" : here.length > 0 ? "warn" : "ok";
    regions[region] = { count, counts: [...buckets], ...scores, level };
    crossings.push(...here);
  }
  const levels = Object.values(regions).map((r) => r.level);
  const level: DriftLevel = levels.includes("alert")
    ? "alert"
    : levels.includes("warn")
      ? "warn"
      : levels.includes("ok")
        ? "ok"
        : "insufficient";
  return { name: feature.name, kind: feature.kind, level, regions, crossings };
}

/**
 * Prometheus names shared by the serving tier (which records feature values) and the drift
 * function (which queries them and exports scores). One file so the two can never disagree.
 *
 * Recording: one counter per bucket rather than a prom-client Histogram. Categorical features
 * have no order, so cumulative `le` buckets do not fit them; per-bucket counters serve numeric
 * and categorical features alike and `increase()` of each gives that bucket's count directly.
 */

/**
 * Counter: feature values served, per baseline bucket. Sampled at serving
 * (`STRATA_DRIFT_SAMPLE_RATE`), so only proportions between buckets are meaningful.
 * Labels: {@link FEATURE_VALUE_LABELS}.
 */
export const FEATURE_VALUE_BUCKET_TOTAL = "strata_feature_value_bucket_total";

/**
 * Labels of {@link FEATURE_VALUE_BUCKET_TOTAL}, every one bounded by the registry and the
 * baselines, never by requests:
 * - `project`, `feature_service` (the service the request named)
 * - `feature`: the service's reference as the registry resolves it, `view@major:feature`
 * - `baseline`: the baseline version whose edges put the value in its bucket, so counts made
 *   with two baselines' edges (during a roll-over) are never summed together
 * - `bucket`: the bucket index as a decimal string, `"0"` … `String(bucketCount - 1)`; the last
 *   index is the null bucket (see baseline.ts, `bucketIndex`)
 * - `region`: the serving process's STRATA_REGION, so one Prometheus (or several, merged) can
 *   answer per region and across regions
 */
export const FEATURE_VALUE_LABELS = [
  "project",
  "region",
  "feature_service",
  "feature",
  "baseline",
  "bucket",
] as const;

export type FeatureValueLabel = (typeof FEATURE_VALUE_LABELS)[number];

/**
 * Gauge exported by the drift function: the latest score of one feature.
 * Labels: project, model, feature_service, feature, region (a region name, or
 * {@link ALL_REGIONS} for the sum across regions), statistic (`psi`, `kl`, `js`).
 */
export const DRIFT_SCORE = "strata_drift_score";

/** Gauge: 1 when the model's latest evaluation crossed an alert threshold, else 0. Labels: project, model, region. */
export const DRIFT_ALERT = "strata_drift_alert";

/** Counter: evaluations by outcome (`ok`, `warn`, `alert`, `empty`, `error`). Labels: project, model, outcome. */
export const DRIFT_EVALUATIONS_TOTAL = "strata_drift_evaluations_total";

/** Counter: retraining submissions by result (`submitted`, `deduplicated`, `failed`). Labels: project, model, result. */
export const DRIFT_TRIGGERS_TOTAL = "strata_drift_triggers_total";

/** The `region` label value of scores computed over every region's counts summed. */
export const ALL_REGIONS = "all";

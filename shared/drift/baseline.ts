import { StrataError, show } from "../errors.js";

/**
 * A drift baseline: for each feature of a feature service, the buckets a model's training data
 * fell into and the proportion in each. The serving tier counts served values into the same
 * buckets; the drift function compares the two distributions.
 *
 * Buckets of a feature, in index order (the `bucket` label is the index):
 * - numeric: `edges.length + 1` value buckets, then the null bucket. Bucket `i` holds
 *   `edges[i-1] < v <= edges[i]` (upper edge inclusive, like Prometheus' `le`); bucket 0 is
 *   `v <= edges[0]` and bucket `edges.length` is `v > edges[edges.length - 1]`.
 * - categorical: one bucket per category, then "other" (any value not listed), then null.
 * The null bucket (always last) holds null, absent values and NaN.
 */
export interface DriftBaseline {
  format: typeof BASELINE_FORMAT;
  project: string;
  /** The model trained on the data; the retraining workflow is submitted for it. */
  model: string;
  /** The model version that pins the feature service. */
  modelVersion: string;
  featureService: string;
  /** Content hash of the baseline (see baseline-version.ts): the same data gives the same version. */
  baselineVersion: string;
  /** ISO 8601. */
  createdAt: string;
  /** Where the training data came from (a file path or table name), for people. */
  source: string;
  /** Training rows the proportions were computed from. */
  rows: number;
  features: BaselineFeature[];
}

export type BaselineFeature = NumericBaselineFeature | CategoricalBaselineFeature;

interface BaselineFeatureCommon {
  /** As the feature service resolves it: `view@major:feature`. */
  name: string;
  /** Proportion of training rows per bucket (index order above), summing to 1. */
  expected: number[];
  /** Overrides of the default thresholds for this feature. */
  thresholds?: DriftThresholds;
}

export interface NumericBaselineFeature extends BaselineFeatureCommon {
  kind: "numeric";
  /** Ascending, distinct, finite interior edges (quantiles of the training data). */
  edges: number[];
}

export interface CategoricalBaselineFeature extends BaselineFeatureCommon {
  kind: "categorical";
  /** The training data's most frequent values (top-K), as strings; booleans are "true"/"false". */
  categories: string[];
}

/** Alert levels of a feature's scores; a score at or above a level crosses it. */
export interface DriftThresholds {
  /** Population stability index that warns (reported, no retraining). */
  psiWarn?: number;
  /** PSI that alerts (retraining). */
  psiAlert?: number;
  /** Jensen–Shannon distance (base 2, in [0, 1]) that alerts. */
  jsAlert?: number;
  /** KL divergence (nats) that alerts; no default, KL is reported only unless set. */
  klAlert?: number;
}

export const BASELINE_FORMAT = 1;

/** Thresholds used where neither the feature nor the caller sets one. */
export const DEFAULT_THRESHOLDS: Readonly<Required<Omit<DriftThresholds, "klAlert">>> = {
  psiWarn: 0.1,
  psiAlert: 0.25,
  jsAlert: 0.1,
};

/** Buckets of a feature, the null bucket included. */
export function bucketCount(feature: BaselineFeature): number {
  return feature.kind === "numeric" ? feature.edges.length + 2 : feature.categories.length + 2;
}

/** Index of the null bucket (the last). */
export function nullBucket(feature: BaselineFeature): number {
  return bucketCount(feature) - 1;
}

/**
 * The bucket a served value falls in, for a feature's baseline. Accepts the JavaScript
 * representations of feature values (shared/registry/feature-types.ts): numbers and bigints
 * for numeric features; strings, booleans, numbers and bigints for categorical ones.
 * Anything else (lists, bytes, objects) counts as null, so a recorder never throws on a value.
 */
export function bucketIndex(feature: BaselineFeature, value: unknown): number {
  if (feature.kind === "numeric") {
    const n = typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : NaN;
    if (Number.isNaN(n)) return feature.edges.length + 1;
    return upperEdgeIndex(feature.edges, n);
  }
  let text: string;
  switch (typeof value) {
    case "string":
      text = value;
      break;
    case "boolean":
    case "bigint":
      text = String(value);
      break;
    case "number":
      if (Number.isNaN(value)) return feature.categories.length + 1;
      text = String(value);
      break;
    default:
      return feature.categories.length + 1;
  }
  const index = categoryIndex(feature).get(text);
  return index ?? feature.categories.length;
}

/** Human-readable description of a bucket, for reports: `(0.5, 1.2]`, `"red"`, `other`, `null`. */
export function bucketDescription(feature: BaselineFeature, index: number): string {
  const last = bucketCount(feature) - 1;
  if (index === last) return "null";
  if (feature.kind === "categorical") {
    return index < feature.categories.length ? JSON.stringify(feature.categories[index]) : "other";
  }
  const { edges } = feature;
  const low = index === 0 ? "-inf" : String(edges[index - 1]);
  const high = index === edges.length ? "+inf" : String(edges[index]);
  return `(${low}, ${high}]`;
}

/** First edge >= n (binary search): the bucket of n under upper-inclusive edges. */
function upperEdgeIndex(edges: readonly number[], n: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (edges[mid]! < n) low = mid + 1;
    else high = mid;
  }
  return low;
}

const categoryIndexes = new WeakMap<CategoricalBaselineFeature, Map<string, number>>();

function categoryIndex(feature: CategoricalBaselineFeature): Map<string, number> {
  let index = categoryIndexes.get(feature);
  if (!index) {
    index = new Map(feature.categories.map((category, i) => [category, i]));
    categoryIndexes.set(feature, index);
  }
  return index;
}

const VERSION_TEXT = /^[A-Za-z0-9._-]{1,64}$/;
/** Proportions are rounded by JSON round trips; a sum this close to 1 is 1. */
const SUM_TOLERANCE = 1e-6;

/**
 * Validates a baseline read from JSON (a file or Redis) and returns it typed. Throws
 * STRATA_E_BAD_BASELINE naming the first problem: the serving tier and the drift function
 * must never bucket values with edges they do not understand.
 */
export function parseBaseline(input: unknown, where = "baseline"): DriftBaseline {
  const fail = (message: string, details: Record<string, unknown> = {}): never => {
    throw new StrataError("STRATA_E_BAD_BASELINE", `${where}: ${message}`, details);
  };
  if (!isObject(input)) return fail(`is ${show(input)}, not an object`);
  if (input.format !== BASELINE_FORMAT) {
    fail(`format is ${show(input.format)}; this build reads format ${BASELINE_FORMAT}`);
  }
  const text = (field: string): string => {
    const value = input[field];
    if (typeof value !== "string" || value.length === 0) {
      fail(`${field} is ${show(value)}, not a non-empty string`, { field });
    }
    return value as string;
  };
  const baselineVersion = text("baselineVersion");
  if (!VERSION_TEXT.test(baselineVersion)) {
    fail(`baselineVersion ${show(baselineVersion)} is not 1-64 of [A-Za-z0-9._-]`);
  }
  const rows = input.rows;
  if (typeof rows !== "number" || !Number.isSafeInteger(rows) || rows < 0) {
    fail(`rows is ${show(rows)}, not a count`);
  }
  if (!Array.isArray(input.features) || input.features.length === 0) {
    fail("features is not a non-empty list");
  }
  const names = new Set<string>();
  const features = (input.features as unknown[]).map((raw, i) => {
    const feature = parseFeature(raw, `features[${i}]`, fail);
    if (names.has(feature.name)) fail(`feature ${show(feature.name)} appears twice`);
    names.add(feature.name);
    return feature;
  });
  return {
    format: BASELINE_FORMAT,
    project: text("project"),
    model: text("model"),
    modelVersion: text("modelVersion"),
    featureService: text("featureService"),
    baselineVersion,
    createdAt: text("createdAt"),
    source: text("source"),
    rows: rows as number,
    features,
  };
}

type Fail = (message: string, details?: Record<string, unknown>) => never;

function parseFeature(raw: unknown, at: string, fail: Fail): BaselineFeature {
  if (!isObject(raw)) return fail(`${at} is not an object`);
  const name = raw.name;
  if (typeof name !== "string" || name.length === 0) return fail(`${at}.name is not a string`);
  const here = `feature ${show(name)}`;
  let feature: BaselineFeature;
  if (raw.kind === "numeric") {
    const edges = raw.edges;
    if (!Array.isArray(edges) || !edges.every((e) => typeof e === "number" && Number.isFinite(e))) {
      return fail(`${here}: edges is not a list of finite numbers`);
    }
    for (let i = 1; i < edges.length; i++) {
      if (!((edges[i] as number) > (edges[i - 1] as number))) {
        fail(`${here}: edges are not strictly ascending at index ${i}`);
      }
    }
    feature = { name, kind: "numeric", edges: [...(edges as number[])], expected: [] };
  } else if (raw.kind === "categorical") {
    const categories = raw.categories;
    if (!Array.isArray(categories) || !categories.every((c) => typeof c === "string")) {
      return fail(`${here}: categories is not a list of strings`);
    }
    if (new Set(categories).size !== categories.length) fail(`${here}: categories repeat`);
    feature = {
      name,
      kind: "categorical",
      categories: [...categories],
      expected: [],
    };
  } else {
    return fail(`${here}: kind is ${show(raw.kind)}, not "numeric" or "categorical"`);
  }
  const expected = raw.expected;
  const buckets = bucketCount(feature);
  if (
    !Array.isArray(expected) ||
    expected.length !== buckets ||
    !expected.every((p) => typeof p === "number" && Number.isFinite(p) && p >= 0)
  ) {
    return fail(`${here}: expected is not ${buckets} non-negative proportions (one per bucket)`);
  }
  const sum = (expected as number[]).reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > SUM_TOLERANCE) fail(`${here}: expected proportions sum to ${sum}, not 1`);
  feature.expected = [...(expected as number[])];
  if (raw.thresholds !== undefined)
    feature.thresholds = parseThresholds(raw.thresholds, here, fail);
  return feature;
}

const THRESHOLD_KEYS = ["psiWarn", "psiAlert", "jsAlert", "klAlert"] as const;

function parseThresholds(raw: unknown, here: string, fail: Fail): DriftThresholds {
  if (!isObject(raw)) return fail(`${here}: thresholds is not an object`);
  const thresholds: DriftThresholds = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!(THRESHOLD_KEYS as readonly string[]).includes(key)) {
      fail(`${here}: unknown threshold ${show(key)} (known: ${THRESHOLD_KEYS.join(", ")})`);
    }
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      fail(`${here}: threshold ${key} is ${show(value)}, not a positive number`);
    }
    thresholds[key as (typeof THRESHOLD_KEYS)[number]] = value;
  }
  return thresholds;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

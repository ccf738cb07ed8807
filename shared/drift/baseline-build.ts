import { createHash } from "node:crypto";
import { StrataError, show } from "../errors.js";
import type { FeatureType } from "../registry/feature-types.js";
import {
  BASELINE_FORMAT,
  bucketCount,
  bucketIndex,
  type BaselineFeature,
  type DriftBaseline,
  type DriftThresholds,
} from "./baseline.js";

export const DEFAULT_NUMERIC_BUCKETS = 10;
export const DEFAULT_TOP_K = 20;

export type BaselineKind = BaselineFeature["kind"];

/**
 * How a feature type is monitored: numbers and timestamps by quantile buckets, strings and
 * booleans by their top-K values. Lists and bytes are not monitored (undefined): a bucket of a
 * list has no single meaning, and bytes are opaque.
 */
export function baselineKindOf(type: FeatureType): BaselineKind | undefined {
  switch (type) {
    case "int32":
    case "int64":
    case "float32":
    case "float64":
    case "unix_timestamp":
      return "numeric";
    case "string":
    case "bool":
      return "categorical";
    default:
      return undefined;
  }
}

/** One feature's training values, in the JavaScript representation of its type; null for null. */
export interface TrainingColumn {
  /** `view@major:feature`. */
  name: string;
  kind: BaselineKind;
  values: readonly unknown[];
  thresholds?: DriftThresholds;
}

export interface BaselineInput {
  project: string;
  model: string;
  modelVersion: string;
  featureService: string;
  source: string;
  columns: readonly TrainingColumn[];
  /** Quantile buckets of numeric features (edges at i/buckets); ties merge buckets. */
  buckets?: number;
  /** Categories kept per categorical feature; the rest count as "other". */
  topK?: number;
  /** ISO time; now if absent. */
  createdAt?: string;
}

/** A baseline from training values: quantile edges, top-K categories, expected proportions. */
export function buildBaseline(input: BaselineInput): DriftBaseline {
  const buckets = input.buckets ?? DEFAULT_NUMERIC_BUCKETS;
  const topK = input.topK ?? DEFAULT_TOP_K;
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 1_000) {
    throw new StrataError("STRATA_E_BAD_BASELINE", `--buckets ${show(buckets)} is not 1-1000`);
  }
  if (!Number.isInteger(topK) || topK < 0 || topK > 1_000) {
    throw new StrataError("STRATA_E_BAD_BASELINE", `--top-k ${show(topK)} is not 0-1000`);
  }
  if (input.columns.length === 0) {
    throw new StrataError("STRATA_E_BAD_BASELINE", "no monitorable feature to build a baseline of");
  }
  const rows = input.columns[0]!.values.length;
  if (rows === 0) {
    throw new StrataError("STRATA_E_BAD_BASELINE", `${input.source} has no rows`, {
      source: input.source,
    });
  }
  const features = input.columns.map((column): BaselineFeature => {
    if (column.values.length !== rows) {
      throw new StrataError(
        "STRATA_E_BAD_BASELINE",
        `column ${column.name} has ${column.values.length} values, not ${rows}`,
      );
    }
    const shape: BaselineFeature =
      column.kind === "numeric"
        ? {
            name: column.name,
            kind: "numeric",
            edges: quantileEdges(column.values, buckets),
            expected: [],
          }
        : {
            name: column.name,
            kind: "categorical",
            categories: topCategories(column.values, topK),
            expected: [],
          };
    shape.expected = expectedProportions(shape, column.values);
    if (column.thresholds) shape.thresholds = column.thresholds;
    return shape;
  });
  const content: Omit<DriftBaseline, "baselineVersion" | "createdAt" | "source"> = {
    format: BASELINE_FORMAT,
    project: input.project,
    model: input.model,
    modelVersion: input.modelVersion,
    featureService: input.featureService,
    rows,
    features,
  };
  return {
    ...content,
    baselineVersion: baselineVersionOf(content),
    createdAt: input.createdAt ?? new Date().toISOString(),
    source: input.source,
  };
}

/**
 * The version of a baseline: the first 16 hex digits of the SHA-256 of its content (project,
 * model, model version, service, rows, features), so building twice from the same data gives
 * the same version, and publishing it again changes nothing.
 */
export function baselineVersionOf(content: object): string {
  return createHash("sha256").update(JSON.stringify(content)).digest("hex").slice(0, 16);
}

/**
 * Interior edges at the quantiles i/buckets (i = 1 … buckets-1) of the finite values, by
 * linear interpolation between order statistics (NumPy's default, Hyndman & Fan type 7),
 * with repeated edges dropped: a value that fills several quantiles gets one bucket.
 */
export function quantileEdges(values: readonly unknown[], buckets: number): number[] {
  const sorted = Float64Array.from(finiteNumbers(values)).sort();
  if (sorted.length === 0) return [];
  const edges: number[] = [];
  for (let i = 1; i < buckets; i++) {
    const position = ((sorted.length - 1) * i) / buckets;
    const below = Math.floor(position);
    const above = Math.min(below + 1, sorted.length - 1);
    const edge = sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  return edges;
}

/** The topK most frequent non-null values as strings; ties by value so the order is stable. */
export function topCategories(values: readonly unknown[], topK: number): string[] {
  const counts = new Map<string, number>();
  for (const value of values) {
    const text = categoryText(value);
    if (text !== undefined) counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, topK)
    .map(([text]) => text);
}

function expectedProportions(feature: BaselineFeature, values: readonly unknown[]): number[] {
  const counts = new Array<number>(bucketCount(feature)).fill(0);
  for (const value of values) counts[bucketIndex(feature, value)]!++;
  return counts.map((c) => c / values.length);
}

function* finiteNumbers(values: readonly unknown[]): Generator<number> {
  for (const value of values) {
    const n = typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : NaN;
    if (Number.isFinite(n)) yield n;
  }
}

/** As bucketIndex reads categorical values; undefined for null. */
function categoryText(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return value;
    case "boolean":
    case "bigint":
      return String(value);
    case "number":
      return Number.isNaN(value) ? undefined : String(value);
    default:
      return undefined;
  }
}

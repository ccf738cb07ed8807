import { show, StrataError } from "../errors.js";
import type {
  AggregationDefinition,
  AggregationFunction,
  AggregationSourceDefinition,
  AggregationViewDefinition,
} from "./definitions.js";
import type { JoinKey, ResolvedFeature } from "./feature-registry.js";
import { isFeatureType, type FeatureType, type ScalarType } from "./feature-types.js";
import { codecFor, type ValueCodec } from "./value-codec.js";

/** Bounds of a window (docs/aggregations.md "Declaring windows"). */
export const MIN_WINDOW_MS = 60_000;
export const MAX_WINDOW_MS = 30 * 24 * 3_600_000;
/** Tiles per window: a read fetches each, so this bounds the cost of a read. */
export const MAX_TILES_PER_WINDOW = 1440;
export const MAX_LAST_N = 100;
export const DEFAULT_ALLOWED_LATENESS_MS = 5 * 60_000;
export const MAX_ALLOWED_LATENESS_MS = MAX_WINDOW_MS;

const FUNCTIONS: readonly AggregationFunction[] = ["count", "sum", "mean", "min", "max", "last_n"];
const INTEGER_TYPES: ReadonlySet<ScalarType> = new Set(["int32", "int64"]);
const SUMMABLE: ReadonlySet<ScalarType> = new Set(["int32", "int64", "float32", "float64"]);
const ORDERED: ReadonlySet<ScalarType> = new Set([...SUMMABLE, "unix_timestamp"]);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Kafka's topic name rule. */
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

export interface AggregationInput {
  name: string;
  type: ScalarType;
  codec: ValueCodec;
}

/** One aggregate, validated, with its output feature. */
export interface ResolvedAggregation {
  name: string;
  function: AggregationFunction;
  /** The input it reads (undefined for count). */
  column?: AggregationInput;
  /** last_n's n; 0 for the other functions. */
  n: number;
  windowMs: number;
  tileMs: number;
  /** windowMs / tileMs: the tiles a read covers. */
  tiles: number;
  /** Whether sums (sum, and mean's sum) are kept as exact integers (HINCRBY), not floats. */
  integerSum: boolean;
  /** The feature a read returns, with the output type (CONTRACTS: count int64, ...). */
  output: ResolvedFeature;
}

/** What makes a resolved view an aggregation view. */
export interface AggregationSpec {
  inputs: readonly AggregationInput[];
  source: AggregationSourceDefinition;
  aggregations: readonly ResolvedAggregation[];
  allowedLatenessMs: number;
  /** The longest window of its aggregations. */
  longestWindowMs: number;
}

/**
 * The output type of an aggregate: count int64; sum float64, or int64 over integer columns;
 * mean float64; min/max the column's type; last_n a list of the column's type, newest first.
 */
export function aggregationOutputType(
  fn: AggregationFunction,
  columnType: ScalarType | undefined,
): FeatureType {
  switch (fn) {
    case "count":
      return "int64";
    case "sum":
      return columnType !== undefined && INTEGER_TYPES.has(columnType) ? "int64" : "float64";
    case "mean":
      return "float64";
    case "min":
    case "max":
      return columnType!;
    case "last_n":
      return `${columnType!}[]`;
  }
}

/**
 * Validates an aggregation view's own parts (inputs, source, aggregations, lateness); the
 * registry has resolved its name, version and entities. `cdcSources` are the repo's CDC
 * source names when it declares them.
 */
export function resolveAggregationSpec(
  def: AggregationViewDefinition,
  key: string,
  joinKeys: readonly JoinKey[],
  cdcSources: ReadonlySet<string> | undefined,
): AggregationSpec {
  const inputs = resolveInputs(def, key, joinKeys);
  const byName = new Map(inputs.map((i) => [i.name, i]));
  const source = checkSource(def.source, key, joinKeys, cdcSources);
  if (!Array.isArray(def.aggregations) || def.aggregations.length === 0) {
    throw bad(key, "declares no aggregations", {});
  }
  const seen = new Set<string>();
  const aggregations = def.aggregations.map((agg) => {
    const resolved = resolveAggregation(agg, key, byName, joinKeys);
    const folded = resolved.name.toLowerCase();
    if (seen.has(folded)) {
      throw new StrataError(
        "STRATA_E_DUPLICATE_FEATURE",
        `aggregation view ${key} declares aggregation ${show(resolved.name)} twice`,
        { view: key, feature: resolved.name },
      );
    }
    seen.add(folded);
    return resolved;
  });
  const allowedLatenessMs = def.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS;
  if (
    !Number.isSafeInteger(allowedLatenessMs) ||
    allowedLatenessMs < 0 ||
    allowedLatenessMs > MAX_ALLOWED_LATENESS_MS
  ) {
    throw bad(
      key,
      `allowedLatenessMs must be a whole number of milliseconds from 0 to ${MAX_ALLOWED_LATENESS_MS}, not ${show(def.allowedLatenessMs)}`,
      {},
    );
  }
  return {
    inputs,
    source,
    aggregations,
    allowedLatenessMs,
    longestWindowMs: Math.max(...aggregations.map((a) => a.windowMs)),
  };
}

function resolveInputs(
  def: AggregationViewDefinition,
  key: string,
  joinKeys: readonly JoinKey[],
): AggregationInput[] {
  const entries =
    def.inputs !== null && typeof def.inputs === "object" ? Object.entries(def.inputs) : [];
  const keyNames = new Set(joinKeys.map((k) => k.name.toLowerCase()));
  const seen = new Set<string>();
  return entries.map(([name, type]) => {
    if (!IDENTIFIER.test(name)) {
      throw new StrataError(
        "STRATA_E_INVALID_NAME",
        `input column name ${show(name)} of aggregation view ${key} is not a valid identifier (letters, digits and _, not starting with a digit)`,
        { name },
      );
    }
    const folded = name.toLowerCase();
    if (seen.has(folded) || keyNames.has(folded)) {
      throw bad(key, `input ${show(name)} is declared twice or has the name of a join key`, {
        input: name,
      });
    }
    if (folded === "event_timestamp" || folded.startsWith("strata_")) {
      throw bad(
        key,
        `input ${show(name)} has the name of a column the offline store adds (event_timestamp, strata_*); rename it`,
        { input: name },
      );
    }
    seen.add(folded);
    if (!isFeatureType(type) || type.endsWith("[]")) {
      throw new StrataError(
        "STRATA_E_UNKNOWN_TYPE",
        `input ${show(name)} of aggregation view ${key} has type ${show(type)}; inputs are scalars: int32, int64, float32, float64, string, bytes, bool, unix_timestamp`,
        { view: key, input: name, type },
      );
    }
    const scalar = type as ScalarType;
    return { name, type: scalar, codec: codecFor(scalar) };
  });
}

function resolveAggregation(
  agg: AggregationDefinition,
  key: string,
  inputs: ReadonlyMap<string, AggregationInput>,
  joinKeys: readonly JoinKey[],
): ResolvedAggregation {
  const name = agg?.name;
  if (typeof name !== "string" || !IDENTIFIER.test(name)) {
    throw new StrataError(
      "STRATA_E_INVALID_NAME",
      `aggregation name ${show(name)} of aggregation view ${key} is not a valid identifier (letters, digits and _, not starting with a digit)`,
      { name },
    );
  }
  const where = `aggregation ${name}`;
  const folded = name.toLowerCase();
  if (
    joinKeys.some((k) => k.name.toLowerCase() === folded) ||
    folded === "event_timestamp" ||
    folded.startsWith("strata_")
  ) {
    throw bad(
      key,
      `${where} has the name of a join key or of a column the offline store adds (event_timestamp, strata_*); rename it`,
      { aggregation: name },
    );
  }
  const fn = agg.function;
  if (!FUNCTIONS.includes(fn)) {
    throw bad(key, `${where}: function is one of ${FUNCTIONS.join(", ")}, not ${show(fn)}`, {
      aggregation: name,
    });
  }
  let column: AggregationInput | undefined;
  if (fn === "count") {
    if (agg.column !== undefined) {
      throw bad(key, `${where}: count counts events and takes no column`, { aggregation: name });
    }
  } else {
    column = inputs.get(agg.column ?? "");
    if (!column) {
      throw bad(
        key,
        `${where}: ${fn} needs a column among the view's inputs (${[...inputs.keys()].join(", ")}), not ${show(agg.column)}`,
        { aggregation: name, column: agg.column },
      );
    }
    const allowed =
      fn === "sum" || fn === "mean" ? SUMMABLE : fn === "last_n" ? undefined : ORDERED;
    if (allowed && !allowed.has(column.type)) {
      throw bad(
        key,
        `${where}: ${fn} needs a numeric column (${[...allowed].join(", ")}), and ${column.name} is ${column.type}`,
        { aggregation: name, column: column.name, type: column.type },
      );
    }
  }
  let n = 0;
  if (fn === "last_n") {
    if (!Number.isInteger(agg.n) || agg.n! < 1 || agg.n! > MAX_LAST_N) {
      throw bad(key, `${where}: last_n needs n from 1 to ${MAX_LAST_N}, not ${show(agg.n)}`, {
        aggregation: name,
      });
    }
    n = agg.n!;
  } else if (agg.n !== undefined) {
    throw bad(key, `${where}: n is for last_n only`, { aggregation: name });
  }
  const { windowMs, tileMs } = agg;
  if (!Number.isSafeInteger(windowMs) || windowMs < MIN_WINDOW_MS || windowMs > MAX_WINDOW_MS) {
    throw bad(
      key,
      `${where}: windowMs must be a whole number of milliseconds from ${MIN_WINDOW_MS} (1 minute) to ${MAX_WINDOW_MS} (30 days), not ${show(windowMs)}`,
      { aggregation: name },
    );
  }
  if (!Number.isSafeInteger(tileMs) || tileMs <= 0 || windowMs % tileMs !== 0) {
    throw bad(
      key,
      `${where}: tileMs must be a whole number of milliseconds that divides windowMs (${windowMs}), not ${show(tileMs)}`,
      { aggregation: name },
    );
  }
  const tiles = windowMs / tileMs;
  if (tiles > MAX_TILES_PER_WINDOW) {
    throw bad(
      key,
      `${where}: windowMs / tileMs is ${tiles}; at most ${MAX_TILES_PER_WINDOW} tiles per window (raise tileMs)`,
      { aggregation: name },
    );
  }
  const type = aggregationOutputType(fn, column?.type);
  return {
    name,
    function: fn,
    ...(column ? { column } : {}),
    n,
    windowMs,
    tileMs,
    tiles,
    integerSum: column !== undefined && INTEGER_TYPES.has(column.type),
    output: { name, type, codec: codecFor(type) },
  };
}

function checkSource(
  source: AggregationSourceDefinition | undefined,
  key: string,
  joinKeys: readonly JoinKey[],
  cdcSources: ReadonlySet<string> | undefined,
): AggregationSourceDefinition {
  if (source === null || typeof source !== "object") {
    throw bad(
      key,
      "needs a source: {push: true}, {cdc, keyColumns} or {topic, timestampField}",
      {},
    );
  }
  if ("push" in source) {
    if (source.push !== true) throw bad(key, "source.push must be true", {});
    return source;
  }
  if ("topic" in source) {
    if (typeof source.topic !== "string" || !TOPIC.test(source.topic)) {
      throw bad(key, `source.topic ${show(source.topic)} is not a Kafka topic name`, {});
    }
    if (typeof source.timestampField !== "string" || source.timestampField.length === 0) {
      throw bad(
        key,
        "source.timestampField must name the event time field of the topic's JSON",
        {},
      );
    }
    return source;
  }
  if ("cdc" in source) {
    if (typeof source.cdc !== "string" || (cdcSources && !cdcSources.has(source.cdc))) {
      throw bad(key, `source.cdc ${show(source.cdc)} is not a CDC source of the repo`, {
        known: cdcSources ? [...cdcSources] : [],
      });
    }
    const columns = source.keyColumns;
    const missing = joinKeys.filter(
      (k) => columns === null || typeof columns !== "object" || typeof columns[k.name] !== "string",
    );
    if (missing.length > 0) {
      throw bad(
        key,
        `source.keyColumns must map every join key to a column; missing ${missing.map((k) => k.name).join(", ")}`,
        {},
      );
    }
    if (source.timestampColumn !== undefined && typeof source.timestampColumn !== "string") {
      throw bad(key, "source.timestampColumn must be a column name", {});
    }
    return source;
  }
  throw bad(key, "source must be {push: true}, {cdc, keyColumns} or {topic, timestampField}", {});
}

function bad(key: string, what: string, details: Record<string, unknown>): StrataError {
  return new StrataError("STRATA_E_BAD_AGGREGATION", `aggregation view ${key}: ${what}`, {
    view: key,
    ...details,
  });
}

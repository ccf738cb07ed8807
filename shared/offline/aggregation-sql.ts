import type { AggregationFunction, JoinKey } from "../registry/index.js";
import type { ScalarType } from "../registry/feature-types.js";
import type { HistorySource } from "./history-source.js";
import { quoteIdent } from "./sql.js";

/** An aggregation view's event table's bookkeeping columns (CONTRACTS.md "Aggregation offline"). */
export const EVENT_COLUMNS = {
  eventTimestamp: "event_timestamp",
  sourceTopic: "strata_source_topic",
  partition: "strata_partition",
  offset: "strata_offset",
} as const;

/** One aggregation as the offline query needs it. */
export interface OfflineAggregation {
  name: string;
  function: AggregationFunction;
  /** The input column (every function but count). */
  column?: string;
  /** last_n only. */
  n?: number;
  windowMs: number;
  tileMs: number;
}

/** One aggregation view major as the offline query needs it. */
export interface OfflineAggregationView {
  /** `<view>@<major>`. */
  key: string;
  joinKeys: readonly JoinKey[];
  /** Input columns and their scalar types. */
  inputs: ReadonlyMap<string, ScalarType>;
  allowedLatenessMs: number;
}

/** One aggregation view major's part of a training set: the aggregations asked for and its event table. */
export interface AggregationPart {
  kind: "aggregation";
  view: OfflineAggregationView;
  refs: { aggregation: OfflineAggregation; column: string }[];
  source: HistorySource;
}

/** The columns an aggregation view's event table must have for these aggregations. */
export function aggregationColumns(part: AggregationPart): string[] {
  const inputs = new Set(part.refs.flatMap((r) => r.aggregation.column ?? []));
  return [...part.view.joinKeys.map((k) => k.name), ...inputs, ...Object.values(EVENT_COLUMNS)];
}

/** The names the query gives things; `v` tells one aggregation part from another. */
const names = (v: number) => ({
  applied: `__strata_a${v}`,
  windows: `__strata_w${v}`,
  first: `__strata_first${v}`,
});

/** The entity rows' relation the training-set query defines first (a CTE). */
export const ENTITY_CTE = "__strata_e";

/**
 * The event table's rows the online store applied, one per event: duplicates (the same
 * origin topic, partition and offset projected twice) collapse into one, and an event is
 * dropped when it is too late, judged as the online apply script judges it. The watermark
 * there is the highest event time applied to the entity before the event, in the order the
 * events of one entity arrive (origin topic, partition, offset); a too-late event is older
 * than that watermark, so including it in the running maximum never changes it, and the
 * watermark before an event is simply the maximum event time of the entity's earlier events.
 */
function appliedEventsCte(part: AggregationPart, v: number, keyIndex: Map<string, number>): string {
  const keys = part.view.joinKeys.map((k) => `__strata_k${keyIndex.get(k.name)}`);
  const inputs = [...new Set(part.refs.flatMap((r) => r.aggregation.column ?? []))];
  const order = "__strata_st, __strata_sp, __strata_so";
  const events = [
    ...part.view.joinKeys.map((k) => `${quoteIdent(k.name)} AS __strata_k${keyIndex.get(k.name)}`),
    ...inputs.map((c) => quoteIdent(c)),
    `epoch_ms(${quoteIdent(EVENT_COLUMNS.eventTimestamp)}) AS __strata_ts`,
    `${quoteIdent(EVENT_COLUMNS.sourceTopic)} AS __strata_st`,
    `${quoteIdent(EVENT_COLUMNS.partition)} AS __strata_sp`,
    `${quoteIdent(EVENT_COLUMNS.offset)} AS __strata_so`,
  ];
  const lateness = Math.max(0, Math.floor(part.view.allowedLatenessMs));
  return [
    `${names(v).applied} AS (`,
    `  SELECT * EXCLUDE (__strata_wm) FROM (`,
    `    SELECT *, max(__strata_ts) OVER (PARTITION BY ${keys.join(", ")} ORDER BY ${order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS __strata_wm`,
    `    FROM (SELECT ${events.join(", ")} FROM ${part.source.relation}`,
    `          QUALIFY row_number() OVER (PARTITION BY ${order}) = 1)`,
    `  ) WHERE __strata_wm IS NULL OR __strata_ts >= __strata_wm - ${lateness}`,
    `)`,
  ].join("\n");
}

/** The row's time in whole milliseconds (event times are whole milliseconds: `ts <= t` is `ts <= floor(t)`). */
const ROW_MS = `floor(e.__strata_ts_us / 1000)::BIGINT`;

/** The first event time a read at the row's time covers: `(kt - W/T + 1) * T`, `kt = floor(t / T)`. */
function windowStart(aggregation: OfflineAggregation): string {
  const tiles = Math.round(aggregation.windowMs / aggregation.tileMs);
  const t = aggregation.tileMs;
  return `((floor(${ROW_MS} / ${t})::BIGINT - ${tiles - 1}) * ${t})`;
}

function aggregateExpr(aggregation: OfflineAggregation, type: ScalarType | undefined): string {
  const inWindow = `a.__strata_ts >= ${windowStart(aggregation)}`;
  const column = aggregation.column === undefined ? "" : `a.${quoteIdent(aggregation.column)}`;
  const integer = type === "int32" || type === "int64";
  switch (aggregation.function) {
    case "count":
      return `count(a.__strata_ts) FILTER (WHERE ${inWindow})`;
    case "sum":
      return integer
        ? `(sum(${column}) FILTER (WHERE ${inWindow}))::BIGINT`
        : `sum(${column}::DOUBLE) FILTER (WHERE ${inWindow})`;
    case "mean":
      return `(sum(${column}::DOUBLE) FILTER (WHERE ${inWindow})) / (count(${column}) FILTER (WHERE ${inWindow}))`;
    case "min":
      return `min(${column}) FILTER (WHERE ${inWindow})`;
    case "max":
      return `max(${column}) FILTER (WHERE ${inWindow})`;
    case "last_n":
      // Newest first, ties ordered as the online tiles order them (CONTRACTS.md).
      return `list(${column} ORDER BY a.__strata_ts DESC, a.__strata_st DESC, a.__strata_sp DESC, a.__strata_so DESC) FILTER (WHERE ${inWindow} AND ${column} IS NOT NULL)`;
  }
}

/** DuckDB's type of an input column's sum. */
function sumType(type: ScalarType | undefined): string {
  return type === "int32" || type === "int64" ? "BIGINT" : "DOUBLE";
}

/**
 * The common table expressions of one aggregation part: its applied events, each entity
 * row's window aggregates (a join of the row with its entity's events between the widest
 * window's start and the row's time), and each entity's first applied event time.
 */
export function aggregationCtes(
  part: AggregationPart,
  v: number,
  keyIndex: Map<string, number>,
): string[] {
  const n = names(v);
  const keys = part.view.joinKeys.map((k) => `__strata_k${keyIndex.get(k.name)}`);
  const on = [
    ...keys.map((k) => `e.${k} = a.${k}`),
    `a.__strata_ts <= ${ROW_MS}`,
    `a.__strata_ts >= least(${part.refs.map((r) => windowStart(r.aggregation)).join(", ")})`,
  ];
  const aggregates = part.refs.map(
    (r, i) => `${aggregateExpr(r.aggregation, typeOf(part, r.aggregation))} AS __strata_f${i}`,
  );
  return [
    appliedEventsCte(part, v, keyIndex),
    [
      `${n.windows} AS (`,
      `  SELECT e.__strata_row, ${aggregates.join(", ")}`,
      `  FROM ${ENTITY_CTE} e JOIN ${n.applied} a ON ${on.join(" AND ")}`,
      `  GROUP BY e.__strata_row`,
      `)`,
    ].join("\n"),
    `${n.first} AS (SELECT ${keys.join(", ")}, min(__strata_ts) AS __strata_first FROM ${n.applied} GROUP BY ${keys.join(", ")})`,
  ];
}

function typeOf(part: AggregationPart, aggregation: OfflineAggregation): ScalarType | undefined {
  return aggregation.column === undefined ? undefined : part.view.inputs.get(aggregation.column);
}

/** The joins of one aggregation part onto the entity rows `e`. */
export function aggregationJoins(
  part: AggregationPart,
  v: number,
  keyIndex: Map<string, number>,
): string[] {
  const n = names(v);
  const keys = part.view.joinKeys.map((k) => `__strata_k${keyIndex.get(k.name)}`);
  return [
    `LEFT JOIN ${n.windows} w${v} ON e.__strata_row = w${v}.__strata_row`,
    `LEFT JOIN ${n.first} f${v} ON ${keys.map((k) => `e.${k} = f${v}.${k}`).join(" AND ")}`,
  ];
}

/**
 * The output columns of one aggregation part. An entity with no applied event at or before
 * the row's time has no aggregation state (online: NOT_FOUND): every value is null. With
 * state, count and sum over no events are 0 and last_n an empty list; mean, min and max are
 * null.
 */
export function aggregationSelects(part: AggregationPart, v: number): string[] {
  const hasState = `f${v}.__strata_first <= ${ROW_MS}`;
  return part.refs.map((r, i) => {
    const value = `w${v}.__strata_f${i}`;
    const type = typeOf(part, r.aggregation);
    let expr: string;
    switch (r.aggregation.function) {
      case "count":
        expr = `CASE WHEN ${hasState} THEN coalesce(${value}, 0)::BIGINT END`;
        break;
      case "sum":
        expr = `CASE WHEN ${hasState} THEN coalesce(${value}, 0)::${sumType(type)} END`;
        break;
      case "last_n":
        expr = `CASE WHEN ${hasState} THEN coalesce(list_slice(${value}, 1, ${Math.max(1, Math.floor(r.aggregation.n ?? 1))}), []) END`;
        break;
      default:
        expr = `CASE WHEN ${hasState} THEN ${value} END`;
    }
    return `${expr} AS ${quoteIdent(r.column)}`;
  });
}

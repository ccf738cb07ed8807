import type { ScalarType } from "../registry/feature-types.js";
import { EVENT_COLUMNS, type AggregationPart, type OfflineAggregation } from "./aggregation-sql.js";
import { sparkIdent } from "./sql.js";

/** Spark SQL's type of an input column (as Iceberg's types read in Spark). */
const SPARK_TYPES: Record<ScalarType, string> = {
  int32: "INT",
  int64: "BIGINT",
  float32: "FLOAT",
  float64: "DOUBLE",
  string: "STRING",
  bytes: "BINARY",
  bool: "BOOLEAN",
  unix_timestamp: "TIMESTAMP",
};

const keyType = (type: string) => (type === "string" ? "STRING" : "BIGINT");

/** The entity row's time in whole milliseconds, from `strata_entities e`. */
function rowMs(timestampColumn: string): string {
  return `floor(unix_micros(CAST(e.${sparkIdent(timestampColumn)} AS TIMESTAMP)) / 1000)`;
}

function windowStart(aggregation: OfflineAggregation, t: string): string {
  const tiles = Math.round(aggregation.windowMs / aggregation.tileMs);
  return `((floor(${t} / ${aggregation.tileMs}) - ${tiles - 1}) * ${aggregation.tileMs})`;
}

function aggregate(part: AggregationPart, aggregation: OfflineAggregation, t: string): string {
  const inWindow = `a.__strata_ts >= ${windowStart(aggregation, t)}`;
  const column = aggregation.column === undefined ? "" : `a.${sparkIdent(aggregation.column)}`;
  const type =
    aggregation.column === undefined ? undefined : part.view.inputs.get(aggregation.column);
  const integer = type === "int32" || type === "int64";
  switch (aggregation.function) {
    case "count":
      return `count(a.__strata_ts) FILTER (WHERE ${inWindow})`;
    case "sum":
      return integer
        ? `CAST(sum(${column}) FILTER (WHERE ${inWindow}) AS BIGINT)`
        : `sum(CAST(${column} AS DOUBLE)) FILTER (WHERE ${inWindow})`;
    case "mean":
      // try_divide: Spark's ANSI mode fails a division by zero rather than giving null.
      return `try_divide(sum(CAST(${column} AS DOUBLE)) FILTER (WHERE ${inWindow}), count(${column}) FILTER (WHERE ${inWindow}))`;
    case "min":
      return `min(${column}) FILTER (WHERE ${inWindow})`;
    case "max":
      return `max(${column}) FILTER (WHERE ${inWindow})`;
    case "last_n":
      // Structs sort field by field: event time, topic, partition, offset; descending is newest first.
      return `transform(sort_array(collect_list(named_struct('t', a.__strata_ts, 's', a.__strata_st, 'p', a.__strata_sp, 'o', a.__strata_so, 'v', ${column})) FILTER (WHERE ${inWindow} AND ${column} IS NOT NULL), false), x -> x.v)`;
  }
}

/**
 * The Spark statements of one aggregation part, the same computation as aggregation-sql.ts:
 * applied events (one per origin, too-late ones dropped by the running maximum of the
 * entity's earlier event times in origin order), each entity row's window aggregates, and
 * each entity's first applied event time.
 */
export function sparkAggregationStatements(
  part: AggregationPart,
  v: number,
  table: string,
  timestampColumn: string,
): string[] {
  const keys = part.view.joinKeys.map((k) => sparkIdent(k.name));
  const inputs = [...new Set(part.refs.flatMap((r) => r.aggregation.column ?? []))];
  const order = "__strata_st, __strata_sp, __strata_so";
  const lateness = Math.max(0, Math.floor(part.view.allowedLatenessMs));
  const t = rowMs(timestampColumn);
  const starts = part.refs.map((r) => windowStart(r.aggregation, t));
  const on = [
    ...part.view.joinKeys.map(
      (k) =>
        `CAST(e.${sparkIdent(k.name)} AS ${keyType(k.type)}) = CAST(a.${sparkIdent(k.name)} AS ${keyType(k.type)})`,
    ),
    `a.__strata_ts <= ${t}`,
    `a.__strata_ts >= ${starts.length === 1 ? starts[0]! : `least(${starts.join(", ")})`}`,
  ];
  return [
    [
      `CREATE OR REPLACE TEMPORARY VIEW strata_events_${v} AS`,
      `SELECT * FROM (`,
      `  SELECT *, max(__strata_ts) OVER (PARTITION BY ${keys.join(", ")} ORDER BY ${order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS __strata_wm`,
      `  FROM (`,
      `    SELECT ${[...keys, ...inputs.map(sparkIdent)].join(", ")}, unix_millis(${sparkIdent(EVENT_COLUMNS.eventTimestamp)}) AS __strata_ts,`,
      `      ${sparkIdent(EVENT_COLUMNS.sourceTopic)} AS __strata_st, ${sparkIdent(EVENT_COLUMNS.partition)} AS __strata_sp, ${sparkIdent(EVENT_COLUMNS.offset)} AS __strata_so,`,
      `      row_number() OVER (PARTITION BY ${sparkIdent(EVENT_COLUMNS.sourceTopic)}, ${sparkIdent(EVENT_COLUMNS.partition)}, ${sparkIdent(EVENT_COLUMNS.offset)} ORDER BY ${sparkIdent(EVENT_COLUMNS.offset)}) AS __strata_dup`,
      `    FROM ${table}`,
      `  ) WHERE __strata_dup = 1`,
      `) WHERE __strata_wm IS NULL OR __strata_ts >= __strata_wm - ${lateness}`,
    ].join("\n"),
    [
      `CREATE OR REPLACE TEMPORARY VIEW strata_windows_${v} AS`,
      `SELECT e.__strata_row, ${part.refs.map((r, i) => `${aggregate(part, r.aggregation, t)} AS __strata_f${i}`).join(",\n  ")}`,
      `FROM strata_entities e JOIN strata_events_${v} a`,
      `  ON ${on.join("\n AND ")}`,
      `GROUP BY e.__strata_row`,
    ].join("\n"),
    `CREATE OR REPLACE TEMPORARY VIEW strata_first_${v} AS SELECT ${keys.join(", ")}, min(__strata_ts) AS __strata_first FROM strata_events_${v} GROUP BY ${keys.join(", ")}`,
  ];
}

/** The joins of one aggregation part onto `strata_entities e`. */
export function sparkAggregationJoins(part: AggregationPart, v: number): string[] {
  const on = part.view.joinKeys.map(
    (k) =>
      `CAST(e.${sparkIdent(k.name)} AS ${keyType(k.type)}) = CAST(f${v}.${sparkIdent(k.name)} AS ${keyType(k.type)})`,
  );
  return [
    `LEFT JOIN strata_windows_${v} w${v} ON e.__strata_row = w${v}.__strata_row`,
    `LEFT JOIN strata_first_${v} f${v} ON ${on.join(" AND ")}`,
  ];
}

/** The output columns of one aggregation part, with the no-state and empty-window rules of aggregation-sql.ts. */
export function sparkAggregationSelects(
  part: AggregationPart,
  v: number,
  timestampColumn: string,
): string[] {
  const hasState = `f${v}.__strata_first <= ${rowMs(timestampColumn)}`;
  return part.refs.map((r, i) => {
    const value = `w${v}.__strata_f${i}`;
    const { aggregation } = r;
    const type =
      aggregation.column === undefined ? undefined : part.view.inputs.get(aggregation.column);
    let expr: string;
    switch (aggregation.function) {
      case "count":
        expr = `CASE WHEN ${hasState} THEN CAST(coalesce(${value}, 0) AS BIGINT) END`;
        break;
      case "sum":
        expr = `CASE WHEN ${hasState} THEN CAST(coalesce(${value}, 0) AS ${type === "int32" || type === "int64" ? "BIGINT" : "DOUBLE"}) END`;
        break;
      case "last_n": {
        const empty = `CAST(array() AS ARRAY<${SPARK_TYPES[type!]}>)`;
        expr = `CASE WHEN ${hasState} THEN coalesce(slice(${value}, 1, ${Math.max(1, aggregation.n ?? 1)}), ${empty}) END`;
        break;
      }
      default:
        expr = `CASE WHEN ${hasState} THEN ${value} END`;
    }
    return `${expr} AS ${sparkIdent(r.column)}`;
  });
}

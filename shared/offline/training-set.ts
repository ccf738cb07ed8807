import { renameSync, rmSync } from "node:fs";
import type { DuckDBConnection } from "@duckdb/node-api";
import { StrataError } from "../errors.js";
import type {
  FeatureRegistry,
  JoinKey,
  ResolvedFeatureRef,
  ResolvedView,
} from "../registry/index.js";
import { openEmbeddedEngine, type EmbeddedEngine } from "./duckdb.js";
import {
  DEFAULT_ENTITY_TIMESTAMP_COLUMN,
  ENTITY_TABLE,
  loadEntityFrame,
  type EntityFrame,
} from "./entity-frame.js";
import { offlineAggregationRef } from "./aggregation-refs.js";
import {
  aggregationColumns,
  aggregationCtes,
  aggregationJoins,
  aggregationSelects,
  ENTITY_CTE,
  type AggregationPart,
} from "./aggregation-sql.js";
import { featureColumnNames } from "./feature-columns.js";
import {
  EVENT_TIMESTAMP_COLUMN,
  VERSION_COLUMN,
  type HistorySource,
  type HistorySources,
} from "./history-source.js";
import { quoteIdent, quoteString } from "./sql.js";

/** What a training set is made of. */
export interface TrainingSetRequest {
  registry: FeatureRegistry;
  /** `view:feature` / `view@2:feature` references; or `service`. */
  features?: readonly string[];
  /** A feature service; or `features`. */
  service?: string;
  /** The entity dataframe: a Parquet file, or a CSV file with a header. */
  entities: string;
  /** The entity file's timestamp column; `event_timestamp` by default (Feast's). */
  timestampColumn?: string;
  /** Name features `view__feature` (`view@2__feature` when pinned), as full_feature_names. */
  fullFeatureNames?: boolean;
  /** Each view major's history: the offline store's Iceberg tables, or Parquet files. */
  history: HistorySources;
  /** The Parquet file to write (replaced only once the whole result is written). */
  out: string;
}

export interface TrainingSetOptions {
  /** An engine to run in (its session's time zone is set to UTC); one is opened and closed otherwise. */
  engine?: EmbeddedEngine;
  /** Called while the join runs with its estimated fraction done (0..1) and the entity rows. */
  onProgress?: (fraction: number, entityRows: number) => void;
}

export interface TrainingSetResult {
  out: string;
  /** Rows written: one per entity row. */
  rows: number;
  /** The output's columns: the entity file's, then one per requested feature. */
  columns: string[];
  views: { view: string; source: string; features: string[] }[];
  seconds: number;
}

/** A checked training-set request, ready to be run (DuckDB) or written out (Spark SQL). */
export interface TrainingSetPlan {
  frame: EntityFrame;
  /** Plain feature views: the value as of the row's time. */
  parts: readonly ViewPart[];
  /** Aggregation views: the window aggregates at the row's time, from their event tables. */
  aggregations: readonly AggregationPart[];
  timestampColumn: string;
  /** The output's columns: the entity file's, then one per requested feature. */
  columns: string[];
}

/** One view major's part of the query: its features' output names and its history. */
export interface ViewPart {
  view: ResolvedView;
  refs: { ref: ResolvedFeatureRef; column: string }[];
  source: HistorySource;
}

/** The highest event time a version can carry (12 hex digits of milliseconds). */
const MAX_EVENT_MS = 2 ** 48 - 1;

/**
 * Builds a point-in-time correct training set (Feast's get_historical_features): every entity
 * row keeps its columns, in file order, and gets for each requested view the value of the
 * greatest version, in the online store's version order, whose event time is at or before the
 * row's timestamp; null when there is none or when that version is older than the view's
 * maxAge at the row's timestamp. The join is DuckDB's ASOF join on `strata_version`, whose
 * text sorts exactly like the online compare-and-swap order, so ties on event time resolve as
 * online (epoch, then HLC, then origin region) and duplicates of one version are the same row.
 */
export async function buildTrainingSet(
  request: TrainingSetRequest,
  options: TrainingSetOptions = {},
): Promise<TrainingSetResult> {
  const started = performance.now();
  const engine = options.engine ?? (await openEmbeddedEngine());
  try {
    const connection = engine.connection;
    const plan = await prepareTrainingSet(connection, request);
    const partial = `${request.out}.partial`;
    rmSync(partial, { force: true });
    const rows = await runWithProgress(
      connection,
      `COPY (${trainingSetSql(plan)}) TO ${quoteString(partial)} (FORMAT parquet)`,
      options.onProgress && ((f) => options.onProgress!(f, plan.frame.rows)),
    );
    renameSync(partial, request.out);
    return {
      out: request.out,
      rows,
      columns: plan.columns,
      views: [
        ...plan.parts.map((p) => ({
          view: p.view.key,
          source: p.source.description,
          features: p.refs.map((r) => r.column),
        })),
        ...plan.aggregations.map((p) => ({
          view: p.view.key,
          source: p.source.description,
          features: p.refs.map((r) => r.column),
        })),
      ],
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await engine.connection.run(`DROP TABLE IF EXISTS ${ENTITY_TABLE}`).catch(() => undefined);
    if (!options.engine) engine.close();
  }
}

/**
 * Everything a training-set query needs, checked: the features resolved, the entity file
 * loaded into ENTITY_TABLE and checked, the output names, and each view's history present
 * with the columns the query reads. Nothing is written.
 */
export async function prepareTrainingSet(
  connection: DuckDBConnection,
  request: Omit<TrainingSetRequest, "out">,
): Promise<TrainingSetPlan> {
  const refs = requestedRefs(request);
  await connection.run("SET TimeZone = 'UTC'");
  const frame = await loadEntityFrame(connection, {
    file: request.entities,
    joinKeys: uniqueJoinKeys(refs),
    timestampColumn: request.timestampColumn ?? DEFAULT_ENTITY_TIMESTAMP_COLUMN,
  });
  const names = featureColumnNames(
    refs,
    request.fullFeatureNames === true,
    frame.columns.map((c) => c.name),
  );
  const { parts, aggregations } = groupByView(refs, names, request.history);
  for (const part of parts) await checkHistory(connection, part);
  for (const part of aggregations) await checkEvents(connection, part);
  return {
    frame,
    parts,
    aggregations,
    timestampColumn: request.timestampColumn ?? DEFAULT_ENTITY_TIMESTAMP_COLUMN,
    columns: [...frame.columns.map((c) => c.name), ...names],
  };
}

function requestedRefs(request: Omit<TrainingSetRequest, "out">): readonly ResolvedFeatureRef[] {
  const hasFeatures = (request.features?.length ?? 0) > 0;
  if (hasFeatures === (request.service !== undefined)) {
    throw new StrataError(
      "STRATA_E_BAD_REQUEST",
      "a training set needs a feature service or a list of features (one of the two)",
      {},
    );
  }
  return request.service !== undefined
    ? request.registry.service(request.service)
    : request.registry.resolveRefs(request.features!);
}

function uniqueJoinKeys(refs: readonly ResolvedFeatureRef[]): JoinKey[] {
  const keys = new Map<string, { key: JoinKey; view: string }>();
  for (const ref of refs) {
    for (const key of ref.view.joinKeys) {
      const seen = keys.get(key.name);
      if (!seen) {
        keys.set(key.name, { key, view: ref.view.key });
      } else if ((seen.key.type === "string") !== (key.type === "string")) {
        // One entity column cannot be read both ways.
        throw new StrataError(
          "STRATA_E_BAD_REQUEST",
          `views ${seen.view} and ${ref.view.key} type join key ${key.name} differently (${seen.key.type}, ${key.type}); ask for them in separate training sets`,
          { joinKey: key.name, views: [seen.view, ref.view.key] },
        );
      } else if (key.type === "int64") {
        seen.key = key;
      }
    }
  }
  return [...keys.values()].map((k) => k.key);
}

function groupByView(
  refs: readonly ResolvedFeatureRef[],
  names: readonly string[],
  history: HistorySources,
): { parts: ViewPart[]; aggregations: AggregationPart[] } {
  const parts = new Map<string, ViewPart>();
  const aggregations = new Map<string, AggregationPart>();
  refs.forEach((ref, i) => {
    const aggregate = offlineAggregationRef(ref);
    if (aggregate) {
      let part = aggregations.get(ref.view.key);
      if (!part) {
        part = { kind: "aggregation", view: aggregate.view, refs: [], source: history(ref.view) };
        aggregations.set(ref.view.key, part);
      }
      part.refs.push({ aggregation: aggregate.aggregation, column: names[i]! });
      return;
    }
    let part = parts.get(ref.view.key);
    if (!part) {
      part = { view: ref.view, refs: [], source: history(ref.view) };
      parts.set(ref.view.key, part);
    }
    part.refs.push({ ref, column: names[i]! });
  });
  return { parts: [...parts.values()], aggregations: [...aggregations.values()] };
}

/** The history must have the view's join keys, its requested features and the version columns. */
async function checkHistory(connection: DuckDBConnection, part: ViewPart): Promise<void> {
  await checkColumns(connection, part.view.key, part.source, [
    ...part.view.joinKeys.map((k) => k.name),
    ...part.refs.map((r) => r.ref.feature.name),
    EVENT_TIMESTAMP_COLUMN,
    VERSION_COLUMN,
  ]);
}

/** An aggregation view's event table must have its join keys, the inputs read and the origin columns. */
async function checkEvents(connection: DuckDBConnection, part: AggregationPart): Promise<void> {
  await checkColumns(connection, part.view.key, part.source, aggregationColumns(part));
}

async function checkColumns(
  connection: DuckDBConnection,
  view: string,
  source: HistorySource,
  wanted: readonly string[],
): Promise<void> {
  let columns: Set<string>;
  try {
    const result = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source.relation}`);
    columns = new Set(result.getRowObjects().map((r) => String(r.column_name)));
  } catch (error) {
    throw new StrataError(
      "STRATA_E_OFFLINE_TABLE_MISSING",
      `the offline history of ${view} (${source.description}) cannot be read: ${(error as Error).message}`,
      { view, source: source.description },
      { cause: error },
    );
  }
  const missing = wanted.filter((c) => !columns.has(c));
  if (missing.length > 0) {
    throw new StrataError(
      "STRATA_E_OFFLINE_TABLE_SCHEMA",
      `the offline history of ${view} (${source.description}) has no column ${missing.join(", ")}`,
      { view, missing },
    );
  }
}

/**
 * The query. Each entity row's bound is its timestamp's millisecond as 12 hex digits followed by
 * "~", which sorts after every version of that millisecond (the 13th character of a version is
 * a hex digit of its epoch) and before every later one; so the ASOF match, the greatest
 * `strata_version <= bound` with equal join keys, is the greatest version at or before the
 * row's time. maxAge is applied to that match only: an older version never stands in for a
 * match that is too old (online, the newest value is the one that is OUTSIDE_MAX_AGE).
 * Aggregation views are computed from their event tables at the row's time (aggregation-sql.ts).
 * Columns come out in the request's order.
 */
export function trainingSetSql({ frame, parts, aggregations, columns }: TrainingSetPlan): string {
  const keyIndex = new Map<string, number>();
  for (const part of [...parts, ...aggregations]) {
    for (const key of part.view.joinKeys) {
      if (!keyIndex.has(key.name)) keyIndex.set(key.name, keyIndex.size);
    }
  }
  const tsUs = frame.timestampUsExpr;
  const entityColumns = [
    ...frame.outputColumns,
    `${frame.rowExpr} AS __strata_row`,
    `${tsUs} AS __strata_ts_us`,
    `CASE WHEN ${tsUs} < 0 THEN NULL ELSE lpad(lower(hex(least(${tsUs} // 1000, ${MAX_EVENT_MS}))), 12, '0') || '~' END AS __strata_bound`,
    ...[...keyIndex].map(([name, i]) => `${frame.keyExpr(name)} AS __strata_k${i}`),
  ];
  // Output columns by name, then listed in the request's order.
  const byColumn = new Map<string, string>(
    frame.columns.map((c) => [c.name, `e.${quoteIdent(c.name)}`]),
  );
  const joins: string[] = [];
  parts.forEach((part, v) => {
    const h = `h${v}`;
    const historyColumns = [
      ...part.view.joinKeys.map(
        (k) => `${quoteIdent(k.name)} AS __strata_k${keyIndex.get(k.name)}`,
      ),
      ...part.refs.map((r, i) => `${quoteIdent(r.ref.feature.name)} AS __strata_f${i}`),
      `${quoteIdent(VERSION_COLUMN)} AS __strata_version`,
      `epoch_us(${quoteIdent(EVENT_TIMESTAMP_COLUMN)}) AS __strata_ev_us`,
    ];
    const on = [
      ...part.view.joinKeys.map((k) => {
        const key = `__strata_k${keyIndex.get(k.name)}`;
        return `e.${key} = ${h}.${key}`;
      }),
      `e.__strata_bound >= ${h}.__strata_version`,
    ];
    joins.push(
      `ASOF LEFT JOIN (SELECT ${historyColumns.join(", ")} FROM ${part.source.relation}) ${h} ON ${on.join(" AND ")}`,
    );
    const maxAgeUs = Math.min(Math.floor(part.view.maxAgeMs * 1000), 2 ** 62);
    part.refs.forEach((r, i) => {
      byColumn.set(
        r.column,
        `CASE WHEN ${h}.__strata_ev_us >= e.__strata_ts_us - ${maxAgeUs} THEN ${h}.__strata_f${i} END AS ${quoteIdent(r.column)}`,
      );
    });
  });
  const ctes = [`${ENTITY_CTE} AS (SELECT ${entityColumns.join(", ")} FROM ${frame.relation})`];
  aggregations.forEach((part, v) => {
    ctes.push(...aggregationCtes(part, v, keyIndex));
    joins.push(...aggregationJoins(part, v, keyIndex));
    const selects = aggregationSelects(part, v);
    part.refs.forEach((r, i) => byColumn.set(r.column, selects[i]!));
  });
  return [
    `WITH ${ctes.join(",\n")}`,
    `SELECT ${columns.map((c) => byColumn.get(c)!).join(", ")}`,
    `FROM ${ENTITY_CTE} e`,
    ...joins,
    `ORDER BY e.__strata_row`,
  ].join("\n");
}

async function runWithProgress(
  connection: DuckDBConnection,
  sql: string,
  onProgress: ((fraction: number) => void) | undefined,
): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  if (onProgress) {
    await connection.run("SET enable_progress_bar = true; SET enable_progress_bar_print = false");
    timer = setInterval(() => {
      const { percentage } = connection.progress;
      if (percentage >= 0) onProgress(percentage / 100);
    }, 200);
  }
  try {
    const result = await connection.runAndReadAll(sql);
    return Number(result.getRows()[0]?.[0] ?? 0);
  } finally {
    if (timer) clearInterval(timer);
  }
}

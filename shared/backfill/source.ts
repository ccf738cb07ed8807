import type { DuckDBConnection } from "@duckdb/node-api";
import { StrataError } from "../errors.js";
import { openEmbeddedEngine, type EmbeddedEngine } from "../offline/duckdb.js";
import type { FeatureRegistry, ResolvedView } from "../registry/feature-registry.js";
import type { FeatureType } from "../registry/feature-types.js";
import type { WriteRow } from "../online-store/write-path.js";
import type { BackfillSource } from "./state.js";
import { refuseAggregationView } from "./aggregation-refusal.js";

/** The column every backfill source has besides join keys and features: the row's event time. */
export const EVENT_TIME_COLUMN = "event_timestamp";

/** A row of a source, before it is given a version. */
export interface SourceRow {
  entity: Record<string, unknown>;
  values: Record<string, unknown>;
  eventTsMs: number;
}

/**
 * A backfill's rows read through the embedded DuckDB: a Parquet or CSV file, or a user's SQL
 * (over files, or over the offline store's tables where they are registered as views). The
 * query is the user's, wrapped in a projection that checks and converts each column to what
 * the view's feature types take.
 */
export class SourceReader {
  private constructor(
    private readonly engine: EmbeddedEngine,
    private readonly projection: string,
    readonly view: ResolvedView,
  ) {}

  static async open(
    registry: FeatureRegistry,
    viewRef: string,
    source: Exclude<BackfillSource, { kind: "replay" }>,
    prepare?: (connection: DuckDBConnection) => Promise<void>,
  ): Promise<SourceReader> {
    refuseAggregationView(registry, viewRef);
    const view = registry.viewByRef(viewRef);
    const engine = await openEmbeddedEngine({ threads: 2 });
    try {
      await prepare?.(engine.connection);
      const base = baseQuery(source);
      let columns: { name: string; type: string }[];
      try {
        const described = await engine.connection.runAndReadAll(`DESCRIBE SELECT * FROM ${base}`);
        columns = described.getRowObjectsJS().map((row) => ({
          name: row.column_name as string,
          type: row.column_type as string,
        }));
      } catch (error) {
        throw new StrataError(
          "STRATA_E_BACKFILL_SOURCE",
          `the backfill source cannot be read: ${error instanceof Error ? error.message : String(error)}`,
          { source },
          { cause: error },
        );
      }
      const projection = `SELECT ${projectColumns(view, columns)} FROM ${base}`;
      return new SourceReader(engine, projection, view);
    } catch (error) {
      engine.close();
      throw error;
    }
  }

  /** Rows and the latest event time, in one scan. */
  async summary(): Promise<{ rows: number; maxEventTsMs: number | undefined }> {
    const result = await this.engine.connection.runAndReadAll(
      `SELECT count(*)::BIGINT AS n, max(${EVENT_TIME_COLUMN})::BIGINT AS latest FROM (${this.projection})`,
    );
    const row = result.getRowObjectsJS()[0]!;
    return {
      rows: Number(row.n),
      maxEventTsMs: row.latest === null ? undefined : Number(row.latest),
    };
  }

  /** Rows whose event time is beyond `latestMs`: how many, and the first few. */
  async futureRows(latestMs: number): Promise<{ count: number; samples: string[] }> {
    const result = await this.engine.connection.runAndReadAll(
      `SELECT count(*)::BIGINT AS n FROM (${this.projection}) WHERE ${EVENT_TIME_COLUMN} > ${Math.floor(latestMs)}`,
    );
    return { count: Number(result.getRowObjectsJS()[0]!.n), samples: [] };
  }

  /** The rows in the source's order, from row `offset` on, in batches. */
  async *rows(offset = 0): AsyncGenerator<SourceRow[]> {
    const view = this.view;
    const keyNames = view.joinKeys.map((k) => k.name);
    const featureNames = view.features.map((f) => f.name);
    const result = await this.engine.connection.stream(
      `${this.projection} OFFSET ${Math.max(0, Math.floor(offset))}`,
    );
    for await (const rows of result.yieldRowsJs()) {
      const batch: SourceRow[] = new Array<SourceRow>(rows.length);
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!;
        const entity: Record<string, unknown> = {};
        for (let i = 0; i < keyNames.length; i++) entity[keyNames[i]!] = row[i];
        const values: Record<string, unknown> = {};
        for (let i = 0; i < featureNames.length; i++)
          values[featureNames[i]!] = row[keyNames.length + i] ?? null;
        batch[r] = { entity, values, eventTsMs: Number(row[row.length - 1]) };
      }
      yield batch;
    }
  }

  close(): void {
    this.engine.close();
  }
}

/** A source row as a write of the view at a version. */
export function toWriteRow(
  view: ResolvedView,
  row: SourceRow,
  version: WriteRow["version"],
): WriteRow {
  return { view: view.key, entity: row.entity, values: row.values, version };
}

function baseQuery(source: Exclude<BackfillSource, { kind: "replay" }>): string {
  if (source.kind === "sql") return `(${source.sql}) AS src`;
  const path = `'${source.path.replaceAll("'", "''")}'`;
  if (/\.parquet$/i.test(source.path)) return `read_parquet(${path}) AS src`;
  if (/\.(csv|tsv)(\.gz)?$/i.test(source.path))
    return `read_csv(${path}, auto_detect = true) AS src`;
  throw new StrataError(
    "STRATA_E_BACKFILL_SOURCE",
    `backfill source ${source.path} is neither .parquet nor .csv`,
    { path: source.path },
  );
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The projection of the source's columns onto join keys, features and event time, in order. */
function projectColumns(
  view: ResolvedView,
  columns: readonly { name: string; type: string }[],
): string {
  const byName = new Map(columns.map((c) => [c.name, c.type]));
  const problems: string[] = [];
  const expressions: string[] = [];
  const need = (
    name: string,
    accepts: (type: string) => boolean,
    wanted: string,
    cast: (type: string) => string,
  ) => {
    const type = byName.get(name);
    if (type === undefined) problems.push(`column ${name} (${wanted}) is missing`);
    else if (!accepts(type)) problems.push(`column ${name} is ${type}, not ${wanted}`);
    else expressions.push(`${cast(type)} AS ${quote(name)}`);
  };
  for (const key of view.joinKeys) {
    const col = quote(key.name);
    if (key.type === "string")
      need(
        key.name,
        (t) => t === "VARCHAR",
        "VARCHAR",
        () => `CAST(${col} AS VARCHAR)`,
      );
    else
      need(
        key.name,
        isInteger,
        `an integer for ${key.type}`,
        () => `CAST(${col} AS ${key.type === "int32" ? "INTEGER" : "BIGINT"})`,
      );
  }
  for (const feature of view.features) {
    const type = feature.type;
    need(
      feature.name,
      (t) => accepts(type, t),
      duckTypeOf(type),
      (t) => castTo(quote(feature.name), type, t),
    );
  }
  need(
    EVENT_TIME_COLUMN,
    (t) => isTimestamp(t) || isInteger(t),
    "a TIMESTAMP or epoch milliseconds",
    (t) =>
      isTimestamp(t)
        ? `epoch_ms(CAST(${quote(EVENT_TIME_COLUMN)} AS TIMESTAMP))`
        : `CAST(${quote(EVENT_TIME_COLUMN)} AS BIGINT)`,
  );
  const known = new Set([
    ...view.joinKeys.map((k) => k.name),
    ...view.features.map((f) => f.name),
    EVENT_TIME_COLUMN,
  ]);
  for (const c of columns)
    if (!known.has(c.name))
      problems.push(`column ${c.name} is not a join key or feature of ${view.key}`);
  if (problems.length > 0) {
    throw new StrataError(
      "STRATA_E_BACKFILL_SCHEMA",
      `the backfill source does not match view ${view.key}: ${problems.join("; ")}`,
      { view: view.key, problems, columns },
    );
  }
  return expressions.join(", ");
}

const INTEGER_TYPES =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/;
const isInteger = (t: string) => INTEGER_TYPES.test(t);
const isFloat = (t: string) => isInteger(t) || /^(FLOAT|DOUBLE|DECIMAL\(\d+,\d+\))$/.test(t);
const isTimestamp = (t: string) => /^(TIMESTAMP.*|DATE)$/.test(t);

function accepts(type: FeatureType, t: string): boolean {
  if (type.endsWith("[]")) {
    return t.endsWith("[]") && accepts(type.slice(0, -2) as FeatureType, t.slice(0, -2));
  }
  switch (type) {
    case "int32":
    case "int64":
      return isInteger(t);
    case "float32":
    case "float64":
      return isFloat(t);
    case "string":
      return t === "VARCHAR";
    case "bytes":
      return t === "BLOB";
    case "bool":
      return t === "BOOLEAN";
    case "unix_timestamp":
      return isInteger(t) || isTimestamp(t);
    default:
      return false;
  }
}

function duckTypeOf(type: FeatureType): string {
  if (type.endsWith("[]")) return `${duckTypeOf(type.slice(0, -2) as FeatureType)}[]`;
  switch (type) {
    case "int32":
      return "INTEGER";
    case "int64":
    case "unix_timestamp":
      return "BIGINT";
    case "float32":
    case "float64":
      return "DOUBLE";
    case "string":
      return "VARCHAR";
    case "bytes":
      return "BLOB";
    case "bool":
      return "BOOLEAN";
    default:
      return "?";
  }
}

function castTo(column: string, type: FeatureType, t: string): string {
  if (type === "unix_timestamp" && isTimestamp(t)) return `epoch_ms(CAST(${column} AS TIMESTAMP))`;
  if (type === "unix_timestamp[]" && isTimestamp(t.slice(0, -2))) {
    return `list_transform(${column}, x -> epoch_ms(CAST(x AS TIMESTAMP)))`;
  }
  return `CAST(${column} AS ${duckTypeOf(type)})`;
}

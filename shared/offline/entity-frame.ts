import { closeSync, openSync, readSync, statSync } from "node:fs";
import type { DuckDBConnection } from "@duckdb/node-api";
import { show, StrataError } from "../errors.js";
import type { JoinKey } from "../registry/index.js";
import { quoteIdent, quoteString } from "./sql.js";

/** Feast's default name of the entity dataframe's timestamp column. */
export const DEFAULT_ENTITY_TIMESTAMP_COLUMN = "event_timestamp";

/** The temporary table an entity file is loaded into, in file order (its rowid). */
export const ENTITY_TABLE = "__strata_entities";

export interface EntityColumn {
  name: string;
  /** DuckDB's type name of the column as read (VARCHAR for a CSV's join keys and timestamp). */
  type: string;
}

/** An entity file, checked against the join keys it must carry, ready to be read by a query. */
export interface EntityFrame {
  format: "parquet" | "csv";
  rows: number;
  /** The file's columns, in order, as `relation` gives them. */
  columns: readonly EntityColumn[];
  /** What to read the rows from: the Parquet file itself, or ENTITY_TABLE (a CSV's rows). */
  relation: string;
  /** SQL giving a row's position in the file (for keeping the file's order). */
  rowExpr: string;
  /** The select list that gives the file's columns their output types (CSV: keys and timestamp cast). */
  outputColumns: readonly string[];
  /** SQL giving a join key's value with its registry type (BIGINT for integer keys, VARCHAR). */
  keyExpr(joinKey: string): string;
  /** SQL giving the row's timestamp in epoch microseconds (BIGINT). */
  readonly timestampUsExpr: string;
}

export interface EntityFrameOptions {
  file: string;
  joinKeys: readonly JoinKey[];
  timestampColumn: string;
}

const INTEGER_TYPES = new Set([
  "TINYINT",
  "SMALLINT",
  "INTEGER",
  "BIGINT",
  "UTINYINT",
  "USMALLINT",
  "UINTEGER",
  "UBIGINT",
  "HUGEINT",
]);
const TIMESTAMP_TYPE = /^(TIMESTAMP(_S|_MS|_NS)?|TIMESTAMP WITH TIME ZONE|TIMESTAMP\(\d\)|DATE)$/;

/**
 * Loads an entity dataframe (Parquet, or CSV with a header) into a temporary table and checks
 * it: every join key and the timestamp column present, of usable types, no null timestamps, at
 * least one row. A CSV's join keys and timestamp are read as text and converted here, so a bad
 * value is named with its row rather than guessed at by type sniffing (a string key "007" stays
 * "007"). Timestamps without a zone are UTC.
 */
export async function loadEntityFrame(
  connection: DuckDBConnection,
  options: EntityFrameOptions,
): Promise<EntityFrame> {
  const format = detectFormat(options.file);
  const keyNames = options.joinKeys.map((k) => k.name);
  const ts = options.timestampColumn;
  const probe = await describe(connection, reader(format, options.file, []), options.file);
  const present = new Set(probe.map((c) => c.name));
  const missing = keyNames.filter((k) => !present.has(k));
  if (missing.length > 0) {
    throw new StrataError(
      "STRATA_E_MISSING_JOIN_KEY",
      `the entity file ${options.file} has no column ${missing.map((m) => show(m)).join(", ")}; the requested views join on ${keyNames.join(", ")}`,
      { file: options.file, missing, columns: [...present] },
    );
  }
  if (!present.has(ts)) {
    throw new StrataError(
      "STRATA_E_NO_TIMESTAMP_COLUMN",
      `the entity file ${options.file} has no timestamp column ${show(ts)} (columns: ${[...present].join(", ")})`,
      { timestamp_column: ts, columns: [...present] },
    );
  }
  // Parquet is read in place, its row numbers keeping the file's order; a CSV is loaded once
  // (its keys and timestamp as text, to be checked), and so is a Parquet file that has a
  // column of the row number's name.
  const inPlace =
    format === "parquet" && !present.has("file_row_number") && !present.has("__strata_row");
  let relation: string;
  let rowExpr: string;
  let columns: EntityColumn[];
  if (inPlace) {
    relation = `read_parquet(${quoteString(options.file)}, file_row_number = true)`;
    rowExpr = "file_row_number";
    columns = probe;
  } else {
    const textColumns = format === "csv" ? [...keyNames, ts] : [];
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE ${ENTITY_TABLE} AS SELECT * FROM ${reader(format, options.file, textColumns)}`,
    );
    relation = ENTITY_TABLE;
    rowExpr = "rowid";
    columns = await describe(connection, ENTITY_TABLE, options.file);
  }
  const typeOf = new Map(columns.map((c) => [c.name, c.type]));

  const keyExprs = new Map<string, string>();
  const outputs = new Map<string, string>();
  for (const key of options.joinKeys) {
    const type = typeOf.get(key.name)!;
    const column = quoteIdent(key.name);
    const target = key.type === "string" ? "VARCHAR" : key.type === "int32" ? "INTEGER" : "BIGINT";
    if (format === "csv") {
      await refuseUncastable(
        connection,
        key.name,
        target,
        options.file,
        "STRATA_E_ENTITY_KEY_TYPE",
      );
      keyExprs.set(key.name, `TRY_CAST(${column} AS ${target})`);
      outputs.set(key.name, `TRY_CAST(${column} AS ${target}) AS ${column}`);
      continue;
    }
    const fits = key.type === "string" ? type === "VARCHAR" : INTEGER_TYPES.has(type);
    if (!fits) {
      throw new StrataError(
        "STRATA_E_ENTITY_KEY_TYPE",
        `join key column ${show(key.name)} of ${options.file} is ${type}; the registry types it ${key.type} (${key.type === "string" ? "VARCHAR" : "an integer type"} expected)`,
        { file: options.file, joinKey: key.name, type, expected: key.type },
      );
    }
    keyExprs.set(key.name, type === target ? column : `CAST(${column} AS ${target})`);
  }

  const tsColumn = quoteIdent(ts);
  let tsExpr: string;
  if (format === "csv") {
    await refuseUncastable(
      connection,
      ts,
      "TIMESTAMPTZ",
      options.file,
      "STRATA_E_BAD_TIMESTAMP_COLUMN",
    );
    tsExpr = `TRY_CAST(${tsColumn} AS TIMESTAMPTZ)`;
    outputs.set(ts, `${tsExpr} AS ${tsColumn}`);
  } else {
    const type = typeOf.get(ts)!;
    if (!TIMESTAMP_TYPE.test(type)) {
      throw new StrataError(
        "STRATA_E_BAD_TIMESTAMP_COLUMN",
        `timestamp column ${show(ts)} of ${options.file} is ${type}, not a timestamp or date`,
        { timestamp_column: ts, type },
      );
    }
    tsExpr = type === "DATE" ? `CAST(${tsColumn} AS TIMESTAMP)` : tsColumn;
  }

  const counts = await connection.runAndReadAll(
    `SELECT count(*)::BIGINT AS n, count(*) FILTER (WHERE ${tsExpr} IS NULL)::BIGINT AS nulls, min(${rowExpr}) FILTER (WHERE ${tsExpr} IS NULL)::BIGINT AS first FROM ${relation}`,
  );
  const [rows, nulls, first] = counts.getRows()[0]!.map((v) => (v === null ? null : Number(v)));
  if (!rows) {
    throw new StrataError(
      "STRATA_E_EMPTY_ENTITY_FILE",
      `the entity file ${options.file} has no rows`,
      {
        file: options.file,
      },
    );
  }
  if (nulls) {
    throw new StrataError(
      "STRATA_E_BAD_TIMESTAMP_COLUMN",
      `${nulls} row(s) of ${options.file} have no ${show(ts)} (the first is row ${first! + 1}); every entity row needs its timestamp`,
      { timestamp_column: ts, null_rows: nulls, first_row: first! + 1 },
    );
  }
  return {
    format,
    rows: rows,
    columns,
    relation,
    rowExpr,
    outputColumns: columns.map((c) => outputs.get(c.name) ?? quoteIdent(c.name)),
    keyExpr: (joinKey) => keyExprs.get(joinKey)!,
    timestampUsExpr: `epoch_us(${tsExpr})`,
  };
}

function detectFormat(file: string): "parquet" | "csv" {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new Error("not a file");
    size = stat.size;
  } catch (error) {
    throw new StrataError(
      "STRATA_E_BAD_ENTITY_FILE",
      `the entity file ${file} cannot be read: ${(error as Error).message}`,
      { file },
    );
  }
  if (size === 0) {
    throw new StrataError("STRATA_E_EMPTY_ENTITY_FILE", `the entity file ${file} is empty`, {
      file,
    });
  }
  const head = Buffer.alloc(4);
  const fd = openSync(file, "r");
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  return head.toString("latin1") === "PAR1" ? "parquet" : "csv";
}

function reader(format: "parquet" | "csv", file: string, textColumns: readonly string[]): string {
  if (format === "parquet") return `read_parquet(${quoteString(file)})`;
  const types =
    textColumns.length === 0
      ? ""
      : `, types = {${textColumns.map((c) => `${quoteString(c)}: 'VARCHAR'`).join(", ")}}`;
  return `read_csv(${quoteString(file)}, header = true${types})`;
}

async function describe(
  connection: DuckDBConnection,
  relation: string,
  file: string,
): Promise<EntityColumn[]> {
  try {
    const result = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`);
    return result
      .getRowObjects()
      .map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  } catch (error) {
    throw new StrataError(
      "STRATA_E_BAD_ENTITY_FILE",
      `the entity file ${file} is neither Parquet nor CSV with a header that DuckDB can read: ${(error as Error).message}`,
      { file },
      { cause: error },
    );
  }
}

/** A CSV column whose non-empty text does not convert to `target`: the first such row is named. */
async function refuseUncastable(
  connection: DuckDBConnection,
  column: string,
  target: string,
  file: string,
  code: "STRATA_E_ENTITY_KEY_TYPE" | "STRATA_E_BAD_TIMESTAMP_COLUMN",
): Promise<void> {
  const c = quoteIdent(column);
  const result = await connection.runAndReadAll(
    `SELECT rowid::BIGINT AS row, ${c} AS value FROM ${ENTITY_TABLE} WHERE ${c} IS NOT NULL AND TRY_CAST(${c} AS ${target}) IS NULL ORDER BY rowid LIMIT 1`,
  );
  const bad = result.getRowObjects()[0];
  if (!bad) return;
  const row = Number(bad.row) + 1;
  throw new StrataError(
    code,
    `row ${row} of ${file}: ${show(column)} is ${show(bad.value)}, not ${target === "TIMESTAMPTZ" ? "an ISO 8601 timestamp" : `a ${target.toLowerCase()}`}`,
    { file, column, row, value: bad.value, expected: target },
  );
}

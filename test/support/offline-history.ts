// Histories and entity rows for training-set tests, written as Parquet through DuckDB in the
// offline table's columns (CONTRACTS.md): join keys, features, event_timestamp,
// strata_version, strata_written_at.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import { quoteIdent, quoteString } from "../../shared/offline/sql.js";
import { encodeVersion, type Version } from "../../shared/versions/index.js";

export interface HistoryRow {
  keys: Record<string, string | number>;
  values: Record<string, string | number | null>;
  version: Version;
}

/** A column of a written table: its name and DuckDB type. */
export interface ColumnSpec {
  name: string;
  type: string;
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** SQL literal of a JS value of a column's type; a TIMESTAMPTZ is given in epoch microseconds. */
function literal(value: string | number | bigint | null, type: string): string {
  if (value === null) return `NULL::${type}`;
  if (type === "TIMESTAMPTZ")
    return `(make_timestamp(${String(value)}::BIGINT) AT TIME ZONE 'UTC')`;
  // A double written as a SQL number is read as a DECIMAL first, which can round it; as text
  // it is parsed to the nearest double, the same one JavaScript printed.
  if (typeof value === "string" || type === "DOUBLE")
    return `${quoteString(String(value))}::${type}`;
  return `${String(value)}::${type}`;
}

/** Writes rows to a Parquet file with exactly these columns and types. */
export async function writeParquet(
  connection: DuckDBConnection,
  file: string,
  columns: readonly ColumnSpec[],
  rows: readonly (string | number | bigint | null)[][],
): Promise<void> {
  const names = columns.map((c) => quoteIdent(c.name)).join(", ");
  const body =
    rows.length === 0
      ? `SELECT ${columns.map((c) => `NULL::${c.type} AS ${quoteIdent(c.name)}`).join(", ")} WHERE false`
      : `SELECT * FROM (VALUES ${rows
          .map((row) => `(${row.map((v, i) => literal(v, columns[i]!.type)).join(", ")})`)
          .join(", ")}) AS t(${names})`;
  await connection.run(`COPY (${body}) TO ${quoteString(file)} (FORMAT parquet)`);
}

/** A view's history in the offline table's columns. */
export async function writeHistory(
  connection: DuckDBConnection,
  file: string,
  keyColumns: readonly ColumnSpec[],
  featureColumns: readonly ColumnSpec[],
  rows: readonly HistoryRow[],
): Promise<void> {
  const columns = [
    ...keyColumns,
    ...featureColumns,
    { name: "event_timestamp", type: "TIMESTAMPTZ" },
    { name: "strata_version", type: "VARCHAR" },
    { name: "strata_written_at", type: "TIMESTAMPTZ" },
  ];
  await writeParquet(
    connection,
    file,
    columns,
    rows.map((row) => [
      ...keyColumns.map((c) => row.keys[c.name]!),
      ...featureColumns.map((c) => row.values[c.name] ?? null),
      row.version.eventTsMs * 1000,
      encodeVersion(row.version),
      row.version.hlc.wallMs * 1000,
    ]),
  );
}

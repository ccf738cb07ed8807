import { existsSync } from "node:fs";
import path from "node:path";
import type { DuckDBConnection, JS } from "@duckdb/node-api";
import type { FeatureRegistry, ResolvedView } from "../registry/index.js";
import { VERSION_COLUMN, type HistorySource } from "./history-source.js";
import { quoteIdent, quoteString } from "./sql.js";
import { offlineTableDir, offlineTableId } from "./table-names.js";

export interface RegisteredOfflineView {
  /** The view major, `<view>@<major>`. */
  view: string;
  /** The DuckDB view's name, `<view>_v<major>`. */
  name: string;
  /** The Iceberg table's folder. */
  dir: string;
}

/**
 * Registers each view major's offline table in a DuckDB connection as a view named
 * `<view>_v<major>` (over `iceberg_scan`), so that users' SQL, and backfills that take their
 * rows from it, can name tables as Spark or Trino would name them in the `strata_<project>`
 * namespace. Tables never written are left out and listed in `missing`.
 */
export async function registerOfflineViews(
  connection: DuckDBConnection,
  registry: FeatureRegistry,
  warehouse: string,
): Promise<{ registered: RegisteredOfflineView[]; missing: RegisteredOfflineView[] }> {
  const registered: RegisteredOfflineView[] = [];
  const missing: RegisteredOfflineView[] = [];
  for (const view of registry.views()) {
    const dir = offlineTableDir(warehouse, registry.project, view.key);
    const entry = { view: view.key, name: offlineTableId(registry.project, view.key).table, dir };
    const remote = /^[a-z][a-z0-9+.-]*:\/\//i.test(dir);
    if (!remote && !existsSync(path.join(dir, "metadata", "version-hint.text"))) {
      missing.push(entry);
      continue;
    }
    await connection.run(
      `CREATE OR REPLACE VIEW ${quoteIdent(entry.name)} AS SELECT * FROM iceberg_scan(${quoteString(dir)})`,
    );
    registered.push(entry);
  }
  return { registered, missing };
}

export interface ReadOfflineOptions {
  /** A SQL condition on the history's columns. */
  where?: string;
  /** A SQL ORDER BY list; the default is the join keys, then strata_version. */
  orderBy?: string;
  limit?: number;
}

/**
 * A view major's history rows as JavaScript values (int64 as bigint, timestamps as Date),
 * every version including duplicates, as stored.
 */
export async function readOfflineRows(
  connection: DuckDBConnection,
  view: ResolvedView,
  source: HistorySource,
  options: ReadOfflineOptions = {},
): Promise<Record<string, JS>[]> {
  const order =
    options.orderBy ??
    [...view.joinKeys.map((k) => quoteIdent(k.name)), quoteIdent(VERSION_COLUMN)].join(", ");
  const sql = [
    `SELECT * FROM ${source.relation}`,
    options.where ? `WHERE ${options.where}` : "",
    `ORDER BY ${order}`,
    options.limit !== undefined ? `LIMIT ${Math.max(0, Math.floor(options.limit))}` : "",
  ].join(" ");
  return (await connection.runAndReadAll(sql)).getRowObjectsJS();
}

/**
 * SQL for each entity's winning row at a time: the greatest `strata_version` whose event time
 * is at or before `asOfMs` (every row when undefined), i.e. what the online store held for it
 * once every write up to then was applied, whatever the order they arrived in. maxAge is not
 * applied: a backfill or prewarm writes the value, and serving flags its age.
 */
export function latestPerEntitySql(
  view: ResolvedView,
  source: HistorySource,
  asOfMs?: number,
): string {
  const keys = view.joinKeys.map((k) => quoteIdent(k.name)).join(", ");
  const version = quoteIdent(VERSION_COLUMN);
  // Versions start with the event millisecond in 12 hex digits: "~" sorts after any of them.
  const bound =
    asOfMs === undefined
      ? ""
      : `WHERE ${version} <= ${quoteString(`${Math.floor(asOfMs).toString(16).padStart(12, "0")}~`)}`;
  return `SELECT * FROM ${source.relation} ${bound} QUALIFY row_number() OVER (PARTITION BY ${keys} ORDER BY ${version} DESC) = 1`;
}

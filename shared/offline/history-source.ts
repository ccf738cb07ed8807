import { existsSync } from "node:fs";
import path from "node:path";
import { StrataError } from "../errors.js";
import type { ResolvedView } from "../registry/index.js";
import { quoteString } from "./sql.js";
import { offlineTableDir, offlineTableId } from "./table-names.js";

/** The offline table's bookkeeping columns (CONTRACTS.md), after the join keys and features. */
export const EVENT_TIMESTAMP_COLUMN = "event_timestamp";
export const VERSION_COLUMN = "strata_version";
export const WRITTEN_AT_COLUMN = "strata_written_at";

/**
 * Where one view major's history is read from: a DuckDB table expression (what follows FROM)
 * whose rows have the view's join keys, its features, `event_timestamp` and `strata_version`.
 * The offline store's Iceberg table is the default; Parquet files with the same columns serve
 * tests, benchmarks and history kept outside the store.
 */
export interface HistorySource {
  /** The table expression, e.g. `iceberg_scan('/warehouse/strata_p/driver_stats_v1')`. */
  readonly relation: string;
  /** For messages: what the history is. */
  readonly description: string;
}

/** Picks each view major's history source. */
export type HistorySources = (view: ResolvedView) => HistorySource;

/**
 * The Iceberg table in its folder (a Hadoop-catalog table: `metadata/version-hint.text`).
 * A local folder without table metadata is a view that was never written:
 * STRATA_E_OFFLINE_TABLE_MISSING. Remote folders (s3://, az://) are checked by the query.
 */
export function icebergHistory(tableDir: string, viewKey?: string): HistorySource {
  const remote = /^[a-z][a-z0-9+.-]*:\/\//i.test(tableDir);
  if (!remote && !existsSync(path.join(tableDir, "metadata", "version-hint.text"))) {
    throw new StrataError(
      "STRATA_E_OFFLINE_TABLE_MISSING",
      `the offline table of ${viewKey ?? "the view"} does not exist at ${tableDir} (nothing of it has been written yet, or STRATA_OFFLINE_WAREHOUSE names another warehouse)`,
      { view: viewKey, table: tableDir },
    );
  }
  return {
    relation: `iceberg_scan(${quoteString(tableDir)})`,
    description: `iceberg table ${tableDir}`,
  };
}

/** Parquet files (a path, a glob, or several) holding a view's history in the table's columns. */
export function parquetHistory(files: string | readonly string[]): HistorySource {
  const list = typeof files === "string" ? [files] : [...files];
  return {
    relation: `read_parquet([${list.map(quoteString).join(", ")}])`,
    description: `parquet ${list.join(", ")}`,
  };
}

/** Every view major's Iceberg table in a Hadoop-catalog warehouse (CONTRACTS.md's layout). */
export function warehouseHistory(warehouse: string, project: string): HistorySources {
  return (view) => icebergHistory(offlineTableDir(warehouse, project, view.key), view.key);
}

/**
 * The warehouse folder: STRATA_OFFLINE_WAREHOUSE, else `<STRATA_STACK_DIR>/warehouse` (the
 * local stack's), else undefined.
 */
export function offlineWarehouse(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env.STRATA_OFFLINE_WAREHOUSE?.trim();
  if (explicit) return explicit;
  const stack = env.STRATA_STACK_DIR?.trim();
  return stack ? path.join(stack, "warehouse") : undefined;
}

/** The DuckDB view name a view major's table is registered under: `<view>_v<major>`. */
export function offlineViewName(project: string, viewKey: string): string {
  return offlineTableId(project, viewKey).table;
}

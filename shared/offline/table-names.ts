import path from "node:path";

/** Where one view major's offline history lives in an Iceberg catalog. */
export interface OfflineTableId {
  /** `strata_<project>`, with `-` and `.` turned into `_`. */
  namespace: string;
  /** `<view>_v<major>`, with `-` and `.` turned into `_`. */
  table: string;
}

/**
 * Iceberg identifiers with `-` or `.` need quoting in most SQL engines, and a `.` inside a
 * name reads as a namespace separator in catalogs: both become `_` so that every engine
 * (Spark, Trino, Athena, DuckDB) names the table the same way without quoting.
 */
function identifierPart(name: string): string {
  return name.replace(/[-.]/g, "_");
}

/**
 * The namespace and table of a view major (`viewKey` is `<view>@<major>`, as the registry's
 * ResolvedView.key). Every writer and reader of the offline store names tables through this.
 */
export function offlineTableId(project: string, viewKey: string): OfflineTableId {
  const at = viewKey.lastIndexOf("@");
  const major = at < 0 ? "" : viewKey.slice(at + 1);
  if (at <= 0 || !/^\d+$/.test(major)) {
    throw new Error(`"${viewKey}" is not a view key (<view>@<major>)`);
  }
  return {
    namespace: `strata_${identifierPart(project)}`,
    table: `${identifierPart(viewKey.slice(0, at))}_v${major}`,
  };
}

/**
 * The table's folder in a Hadoop-catalog warehouse: `<warehouse>/<namespace>/<table>`, holding
 * `metadata/version-hint.text` and the `v<n>.metadata.json` it names.
 */
export function offlineTableDir(warehouse: string, project: string, viewKey: string): string {
  const { namespace, table } = offlineTableId(project, viewKey);
  return path.join(warehouse, namespace, table);
}

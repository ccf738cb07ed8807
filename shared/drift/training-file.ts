import path from "node:path";
import { StrataError, show } from "../errors.js";
import { openEmbeddedEngine, type EmbeddedEngineOptions } from "../offline/duckdb.js";
import type { ResolvedFeatureRef } from "../registry/feature-registry.js";
import { baselineKindOf, type TrainingColumn } from "./baseline-build.js";

export interface TrainingColumnsResult {
  columns: TrainingColumn[];
  /** Service features not monitored (lists, bytes), with why. */
  skipped: { feature: string; reason: string }[];
}

/**
 * Reads a feature service's columns from a training file (Parquet, or CSV with a header) with
 * the embedded DuckDB. A feature `view@2:feature` is found as the column `view__feature`
 * (Feast's full feature names), else `feature`. Numeric features come back as doubles
 * (timestamps as epoch milliseconds), categorical ones as text (booleans as "true"/"false").
 */
export async function readTrainingColumns(
  file: string,
  refs: readonly ResolvedFeatureRef[],
  engineOptions: EmbeddedEngineOptions = {},
): Promise<TrainingColumnsResult> {
  const source = tableFunction(file);
  const engine = await openEmbeddedEngine(engineOptions);
  try {
    const described = await engine.connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    const types = new Map<string, string>();
    // DESCRIBE rows: column_name, column_type, ... (both VARCHAR).
    for (const row of described.getRowsJS()) types.set(row[0] as string, row[1] as string);
    const columns: TrainingColumn[] = [];
    const skipped: TrainingColumnsResult["skipped"] = [];
    const selects: string[] = [];
    for (const ref of refs) {
      const name = `${ref.view.key}:${ref.feature.name}`;
      const kind = baselineKindOf(ref.feature.type);
      if (!kind) {
        skipped.push({ feature: name, reason: `type ${ref.feature.type} is not monitored` });
        continue;
      }
      const column = [`${ref.view.name}__${ref.feature.name}`, ref.feature.name].find((c) =>
        types.has(c),
      );
      if (!column) {
        throw new StrataError(
          "STRATA_E_BAD_BASELINE",
          `${file} has no column ${ref.view.name}__${ref.feature.name} or ${ref.feature.name} for ${name}`,
          { file, feature: name, columns: [...types.keys()] },
        );
      }
      const type = types.get(column)!;
      const quoted = `"${column.replaceAll('"', '""')}"`;
      selects.push(
        kind === "categorical"
          ? `CAST(${quoted} AS VARCHAR)`
          : type.startsWith("TIMESTAMP") || type === "DATE"
            ? `CAST(epoch_ms(${quoted}) AS DOUBLE)`
            : `TRY_CAST(${quoted} AS DOUBLE)`,
      );
      columns.push({ name, kind, values: [] });
    }
    if (columns.length === 0) return { columns, skipped };
    const reader = await engine.connection.runAndReadAll(
      `SELECT ${selects.join(", ")} FROM ${source}`,
    );
    const values = reader.getColumnsJS();
    columns.forEach((column, i) => (column.values = values[i] ?? []));
    return { columns, skipped };
  } catch (error) {
    if (error instanceof StrataError) throw error;
    throw new StrataError(
      "STRATA_E_BAD_BASELINE",
      `${file} could not be read: ${(error as Error).message}`,
      { file },
      { cause: error },
    );
  } finally {
    engine.close();
  }
}

function tableFunction(file: string): string {
  const literal = `'${path.resolve(file).replaceAll("'", "''")}'`;
  const extension = path.extname(file).toLowerCase();
  if (extension === ".parquet") return `read_parquet(${literal})`;
  if (extension === ".csv" || extension === ".tsv") return `read_csv(${literal}, header = true)`;
  throw new StrataError("STRATA_E_BAD_BASELINE", `${show(file)} is neither .parquet nor .csv`, {
    file,
  });
}

import { writeFileSync } from "node:fs";
import { EnvReader } from "../config/env.js";
import { StrataError } from "../errors.js";
import { openRegistrySource, type FeatureRegistry } from "../registry/index.js";
import { openEmbeddedEngine } from "./duckdb.js";
import { offlineWarehouse, warehouseHistory, type HistorySources } from "./history-source.js";
import { trainingSetSparkSql } from "./spark-training-set.js";
import {
  buildTrainingSet,
  prepareTrainingSet,
  type TrainingSetRequest,
  type TrainingSetResult,
} from "./training-set.js";

/** What `strata training-set` asks for, before the registry and the warehouse are found. */
export interface TrainingSetCommand extends Omit<
  TrainingSetRequest,
  "registry" | "history" | "out"
> {
  /** The Parquet file to write; or `sparkSql`. */
  out?: string;
  /** Write the Spark SQL script of the training set here instead of running it. */
  sparkSql?: string;
  /** The warehouse folder (else STRATA_OFFLINE_WAREHOUSE, else the local stack's). */
  warehouse?: string;
  onProgress?: (fraction: number, entityRows: number) => void;
}

export type TrainingSetOutcome =
  | ({ kind: "written" } & TrainingSetResult)
  | { kind: "spark-sql"; script: string; columns: string[]; views: string[] };

/**
 * `strata training-set` and `npm run training-set`: the registry from STRATA_REPO or the
 * project's published one (as serving finds it), each view's history from the warehouse's
 * Iceberg tables, then the DuckDB query, or the Spark SQL script of the same query.
 */
export async function runTrainingSet(
  command: TrainingSetCommand,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TrainingSetOutcome> {
  const read = new EnvReader(env);
  const warehouse = command.warehouse ?? offlineWarehouse(env);
  if (warehouse === undefined) {
    throw new StrataError(
      "STRATA_E_BAD_CONFIG",
      "no offline warehouse: set STRATA_OFFLINE_WAREHOUSE (or pass --warehouse)",
      { variable: "STRATA_OFFLINE_WAREHOUSE" },
    );
  }
  const registry = await currentRegistry(read);
  const history: HistorySources = warehouseHistory(warehouse, registry.project);
  if (command.sparkSql !== undefined) {
    const engine = await openEmbeddedEngine();
    try {
      const plan = await prepareTrainingSet(engine.connection, { ...command, registry, history });
      writeFileSync(command.sparkSql, trainingSetSparkSql(plan, registry.project));
      return {
        kind: "spark-sql",
        script: command.sparkSql,
        columns: plan.columns,
        views: plan.parts.map((p) => p.view.key),
      };
    } finally {
      engine.close();
    }
  }
  if (command.out === undefined) {
    throw new StrataError("STRATA_E_BAD_REQUEST", "a training set needs an output file", {});
  }
  const result = await buildTrainingSet(
    { ...command, out: command.out, registry, history },
    { onProgress: command.onProgress },
  );
  return { kind: "written", ...result };
}

/** The registry serving would serve now: the STRATA_REPO file, or the published one (read once). */
async function currentRegistry(read: EnvReader): Promise<FeatureRegistry> {
  const config = read.registrySource(read.kafka(false));
  const source = openRegistrySource(config, "strata-training-set");
  try {
    const served = await source.start({ onRegistry: () => undefined, onRefused: () => undefined });
    return served.registry;
  } finally {
    await source.stop();
  }
}

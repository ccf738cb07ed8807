// npm run bench -- training-set: the training-set figures alone (bench/_training-set-bench.ts,
// which `npm run bench -- backfill` reports with the backfill's own).
import type { BenchTableRow } from "./run.js";
import { runTrainingSetBench } from "./_training-set-bench.js";

export const description =
  "training set (1,000,000 feature rows, 100,000 entity rows) vs a hand-written DuckDB ASOF join over the same Parquet";

export async function run(log: (line: string) => void) {
  const results = await runTrainingSetBench(log);
  const table: BenchTableRow[] = [
    { measurement: "training_set", seconds: results.training_set.seconds },
    { measurement: "floor_duckdb_asof", seconds: results.floor_duckdb_asof.seconds },
    { measurement: "ratio", seconds: results.ratio },
  ];
  return { results, table };
}

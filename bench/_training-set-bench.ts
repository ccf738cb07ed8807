// The training-set part of `npm run bench -- backfill` (bench/backfill.ts calls
// runTrainingSetBench): Strata's training set (buildTrainingSet: the entity file checked,
// ASOF on strata_version, maxAge, file order kept) against the floor, a hand-written DuckDB
// ASOF join on event time over the same Parquet files, writing Parquet too, in the same run.
// Both run in fresh engines, alternately, and the median of the rounds is reported.
import path from "node:path";
import { openEmbeddedEngine } from "../shared/offline/duckdb.js";
import { parquetHistory } from "../shared/offline/history-source.js";
import { buildTrainingSet } from "../shared/offline/training-set.js";
import { FeatureRegistry } from "../shared/registry/index.js";
import { tempDir } from "../test/support/offline-history.js";
import { median, round } from "./_stats.js";

export interface TrainingSetBenchOptions {
  /** History rows (feature rows) of the one view; at least 1,000,000 for the figure. */
  featureRows?: number;
  /** Entity rows (labels); at least 100,000. */
  labels?: number;
  /** Distinct entities the history is spread over. */
  entities?: number;
  rounds?: number;
}

export interface TrainingSetBenchResults {
  /** seconds: wall time (median of the rounds); cpu_seconds: the process' CPU time, every DuckDB thread included. */
  training_set: { labels: number; feature_rows: number; seconds: number; cpu_seconds: number };
  floor_duckdb_asof: { seconds: number; cpu_seconds: number };
  /** training_set.seconds / floor_duckdb_asof.seconds (target: at most 1.5). */
  ratio: number;
}

const DAY_MS = 86_400_000;
const START_MS = Date.UTC(2026, 10, 1);
const SPAN_MS = 30 * DAY_MS;

export async function runTrainingSetBench(
  log: (line: string) => void = () => {},
  options: TrainingSetBenchOptions = {},
): Promise<TrainingSetBenchResults> {
  const featureRows = options.featureRows ?? 1_000_000;
  const labels = options.labels ?? 100_000;
  const entities = options.entities ?? 50_000;
  const rounds = options.rounds ?? 3;
  const tmp = tempDir("strata-bench-ts");
  const history = path.join(tmp.dir, "history.parquet");
  const entityFile = path.join(tmp.dir, "entities.parquet");
  const registry = new FeatureRegistry({
    project: "bench_ts",
    entities: [{ name: "driver", joinKeys: { driver_id: "int64" } }],
    views: [
      {
        name: "driver_stats",
        version: "1.0.0",
        entities: ["driver"],
        features: { conv_rate: "float64", acc_rate: "float64", trips: "int64" },
        maxAgeMs: 7 * DAY_MS,
      },
    ],
  });
  try {
    await generate(history, entityFile, featureRows, labels, entities);
    log(`generated ${featureRows} feature rows over ${entities} entities, ${labels} entity rows`);
    const strataSeconds: number[] = [];
    const floorSeconds: number[] = [];
    const strataCpu: number[] = [];
    const floorCpu: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const floorRun = await floor(history, entityFile, path.join(tmp.dir, `floor-${r}.parquet`));
      floorSeconds.push(floorRun.seconds);
      floorCpu.push(floorRun.cpuSeconds);
      const engine = await openEmbeddedEngine();
      try {
        const cpu = process.cpuUsage();
        const result = await buildTrainingSet(
          {
            registry,
            features: ["driver_stats:conv_rate", "driver_stats:acc_rate", "driver_stats:trips"],
            entities: entityFile,
            out: path.join(tmp.dir, `training-${r}.parquet`),
            history: () => parquetHistory(history),
          },
          { engine },
        );
        strataCpu.push(cpuSeconds(process.cpuUsage(cpu)));
        if (result.rows !== labels) throw new Error(`training set wrote ${result.rows} rows`);
        strataSeconds.push(result.seconds);
      } finally {
        engine.close();
      }
      log(
        `round ${r + 1}/${rounds}: training set ${strataSeconds[r]!.toFixed(2)}s, floor ${floorSeconds[r]!.toFixed(2)}s`,
      );
    }
    const seconds = median(strataSeconds);
    const floorMedian = median(floorSeconds);
    return {
      training_set: {
        labels,
        feature_rows: featureRows,
        seconds: round(seconds, 3),
        cpu_seconds: round(median(strataCpu), 3),
      },
      floor_duckdb_asof: {
        seconds: round(floorMedian, 3),
        cpu_seconds: round(median(floorCpu), 3),
      },
      ratio: round(seconds / floorMedian),
    };
  } finally {
    tmp.remove();
  }
}

/**
 * The history in the offline table's columns, with versions as the writers encode them: every
 * tenth row is another region's write of the previous row's entity and event time (a tie its
 * version breaks, with other values), and one row in a hundred is a redelivery of the previous
 * one (at-least-once). Entity rows fall at random times over the same month.
 */
async function generate(
  history: string,
  entityFile: string,
  featureRows: number,
  labels: number,
  entities: number,
): Promise<void> {
  const engine = await openEmbeddedEngine();
  try {
    const c = engine.connection;
    await c.run("SET TimeZone = 'UTC'");
    await c.run(`
      COPY (
        WITH ids AS (
          SELECT CASE WHEN i % 100 = 50 THEN i - 1 ELSE i END AS j FROM range(${featureRows}) t(i)
        ),
        raw AS (
          SELECT j,
            CASE WHEN j % 10 = 9 THEN j - 1 ELSE j END AS k,
            CASE WHEN j % 10 = 9 THEN 'b' ELSE 'a' END AS region
          FROM ids
        ),
        timed AS (
          SELECT j, region,
            (hash(k) % ${entities})::BIGINT AS driver_id,
            ${START_MS} + (hash(k * 7 + 1) % ${SPAN_MS})::BIGINT AS ev_ms
          FROM raw
        )
        SELECT driver_id,
          (hash(j * 3) % 10000) / 10000.0 AS conv_rate,
          (hash(j * 5) % 10000) / 10000.0 AS acc_rate,
          (hash(j * 11) % 500)::BIGINT AS trips,
          make_timestamp(ev_ms * 1000) AT TIME ZONE 'UTC' AS event_timestamp,
          lpad(lower(hex(ev_ms)), 12, '0') || '00000000' || lpad(lower(hex(ev_ms + 5)), 12, '0') || '0000' || region AS strata_version,
          make_timestamp((ev_ms + 5) * 1000) AT TIME ZONE 'UTC' AS strata_written_at
        FROM timed
      ) TO '${history}' (FORMAT parquet)`);
    await c.run(`
      COPY (
        SELECT (hash(i * 13 + 2) % ${entities})::BIGINT AS driver_id,
          make_timestamp((${START_MS} + (hash(i * 17 + 3) % ${SPAN_MS})::BIGINT) * 1000) AT TIME ZONE 'UTC' AS event_timestamp,
          (hash(i * 19) % 2)::INTEGER AS label
        FROM range(${labels}) t(i)
      ) TO '${entityFile}' (FORMAT parquet)`);
  } finally {
    engine.close();
  }
}

/** The floor: the plain ASOF join one would write by hand, same inputs, Parquet out. */
async function floor(
  history: string,
  entityFile: string,
  out: string,
): Promise<{ seconds: number; cpuSeconds: number }> {
  const engine = await openEmbeddedEngine();
  try {
    const started = performance.now();
    const cpu = process.cpuUsage();
    await engine.connection.run(`
      COPY (
        SELECT e.*, h.conv_rate, h.acc_rate, h.trips
        FROM read_parquet('${entityFile}') e
        ASOF LEFT JOIN read_parquet('${history}') h
          ON e.driver_id = h.driver_id AND e.event_timestamp >= h.event_timestamp
      ) TO '${out}' (FORMAT parquet)`);
    return {
      seconds: (performance.now() - started) / 1000,
      cpuSeconds: cpuSeconds(process.cpuUsage(cpu)),
    };
  } finally {
    engine.close();
  }
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

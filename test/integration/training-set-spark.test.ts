// The scale-out path: the Spark SQL script that `strata training-set --spark-sql` writes, run
// on Spark local (Spark 4.0 + Iceberg 1.10 from Maven) over Iceberg tables that Spark itself
// writes in the warehouse layout of CONTRACTS.md, gives the same rows as the embedded engine
// reading those same tables through DuckDB's iceberg_scan, and as the embedded engine
// reading the Parquet they were made from.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { runSparkSql } from "../../dev/spark/spark-local.js";
import { openEmbeddedEngine, type EmbeddedEngine } from "../../shared/offline/duckdb.js";
import { parquetHistory, warehouseHistory } from "../../shared/offline/history-source.js";
import { registerOfflineViews } from "../../shared/offline/offline-tables.js";
import { trainingSetSparkSql } from "../../shared/offline/spark-training-set.js";
import { sparkIdent } from "../../shared/offline/sql.js";
import { offlineTableId } from "../../shared/offline/table-names.js";
import {
  buildTrainingSet,
  prepareTrainingSet,
  type TrainingSetRequest,
} from "../../shared/offline/training-set.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import type { Version } from "../../shared/versions/index.js";
import {
  tempDir,
  writeHistory,
  writeParquet,
  type HistoryRow,
} from "../support/offline-history.js";
import { runInProcess } from "../support/cli.js";
import pitRepo, { PIT_PROJECT } from "../support/pit-repo.js";
import { seededRandom } from "../support/seeded-random.js";

const project = PIT_PROJECT;
const registry = new FeatureRegistry(pitRepo);
const repoFile = fileURLToPath(new URL("../support/pit-repo.ts", import.meta.url));
const BASE_MS = 1_765_000_000_000;

let engine: EmbeddedEngine;
const tmp = tempDir("strata-spark");
before(async () => {
  engine = await openEmbeddedEngine({ threads: 2 });
  await engine.connection.run("SET TimeZone = 'UTC'");
});
after(() => {
  engine.close();
  tmp.remove();
});

function randomVersion(random: () => number): Version {
  const pick = (n: number) => Math.floor(random() * n);
  return {
    eventTsMs: BASE_MS + pick(12) * 1_000,
    epoch: pick(3),
    hlc: { wallMs: BASE_MS + pick(3), counter: pick(3) },
    originRegion: ["a", "b", "ab"][pick(3)]!,
  };
}

test("the Spark SQL script on Spark local gives the embedded engine's training set", async () => {
  const random = seededRandom(20261206);
  const pick = (n: number) => Math.floor(random() * n);
  const stats: HistoryRow[] = [];
  for (let i = 0; i < 300; i++) {
    const row: HistoryRow = {
      keys: { driver_id: 1 + pick(6) },
      version: randomVersion(random),
      values: {
        trips: random() < 0.2 ? null : pick(100),
        rate: random() < 0.2 ? null : pick(1000) / 8,
        note: random() < 0.2 ? null : `n${i}`,
      },
    };
    stats.push(row);
    if (random() < 0.1) stats.push(row); // at-least-once: the same version again
  }
  const zones: HistoryRow[] = [];
  for (let i = 0; i < 120; i++) {
    zones.push({
      keys: { zone_id: `z${pick(4)}` },
      version: randomVersion(random),
      values: { level: random() < 0.2 ? null : pick(10) },
    });
  }
  // One version per (entity, version): a generated repeat of a version takes its first values.
  const dedupe = (rows: HistoryRow[]) => {
    const seen = new Map<string, HistoryRow>();
    for (const r of rows) {
      const id = JSON.stringify([r.keys, r.version]);
      if (!seen.has(id)) seen.set(id, r);
    }
    return rows.map((r) => seen.get(JSON.stringify([r.keys, r.version]))!);
  };
  const statsFile = path.join(tmp.dir, "stats.parquet");
  const zoneFile = path.join(tmp.dir, "zone.parquet");
  const entityFile = path.join(tmp.dir, "entities.parquet");
  await writeHistory(
    engine.connection,
    statsFile,
    [{ name: "driver_id", type: "BIGINT" }],
    [
      { name: "trips", type: "BIGINT" },
      { name: "rate", type: "DOUBLE" },
      { name: "note", type: "VARCHAR" },
    ],
    dedupe(stats),
  );
  await writeHistory(
    engine.connection,
    zoneFile,
    [{ name: "zone_id", type: "VARCHAR" }],
    [{ name: "level", type: "INTEGER" }],
    dedupe(zones),
  );
  const offsets = [0, -1, 1, 999, 4_000_000, 4_000_001, 7_000_000, 7_000_001];
  await writeParquet(
    engine.connection,
    entityFile,
    [
      { name: "request_id", type: "INTEGER" },
      { name: "driver_id", type: "BIGINT" },
      { name: "zone_id", type: "VARCHAR" },
      { name: "event_timestamp", type: "TIMESTAMPTZ" },
    ],
    Array.from({ length: 400 }, (_, i) => [
      i,
      1 + pick(7),
      `z${pick(5)}`,
      (BASE_MS + (pick(16) - 1) * 1_000) * 1_000 + offsets[pick(offsets.length)]!,
    ]),
  );

  const request: Omit<TrainingSetRequest, "out" | "history"> = {
    registry,
    service: "pit_model",
    entities: entityFile,
  };
  const plan = await prepareTrainingSet(engine.connection, {
    ...request,
    history: (view) => parquetHistory(view.name === "stats" ? statsFile : zoneFile),
  });
  // Spark writes the Iceberg tables where the sink would (strata_<project>.<view>_v<major>,
  // partitioned by event day), then runs the generated script over them.
  const warehouse = path.join(tmp.dir, "warehouse");
  const table = (viewKey: string) => {
    const id = offlineTableId(project, viewKey);
    return `strata.${sparkIdent(id.namespace)}.${sparkIdent(id.table)}`;
  };
  const setup = [
    `CREATE NAMESPACE IF NOT EXISTS strata.${sparkIdent(offlineTableId(project, "stats@1").namespace)}`,
    `CREATE TABLE ${table("stats@1")} USING iceberg PARTITIONED BY (days(event_timestamp)) AS SELECT * FROM parquet.\`${statsFile}\``,
    `CREATE TABLE ${table("zone@2")} USING iceberg PARTITIONED BY (days(event_timestamp)) AS SELECT * FROM parquet.\`${zoneFile}\``,
  ].join("\n;\n");
  const script = path.join(tmp.dir, "training-set.sql");
  writeFileSync(script, `${setup}\n;\n${trainingSetSparkSql(plan, project)}`);
  const sparkOut = path.join(tmp.dir, "spark-out");
  const started = performance.now();
  await runSparkSql(warehouse, script, { entities: entityFile, out: sparkOut });
  const sparkSeconds = (performance.now() - started) / 1000;

  const fromIceberg = path.join(tmp.dir, "duckdb-iceberg.parquet");
  const fromParquet = path.join(tmp.dir, "duckdb-parquet.parquet");
  await buildTrainingSet(
    { ...request, out: fromIceberg, history: warehouseHistory(warehouse, project) },
    { engine },
  );
  await buildTrainingSet(
    {
      ...request,
      out: fromParquet,
      history: (view) => parquetHistory(view.name === "stats" ? statsFile : zoneFile),
    },
    { engine },
  );
  const read = async (source: string) =>
    (
      await engine.connection.runAndReadAll(
        `SELECT request_id, driver_id, zone_id, epoch_us(event_timestamp) AS ts, trips, rate, note, level FROM ${source} ORDER BY request_id`,
      )
    ).getRowObjectsJS();
  const spark = await read(`read_parquet('${sparkOut}/*.parquet')`);
  const iceberg = await read(`read_parquet('${fromIceberg}')`);
  const parquet = await read(`read_parquet('${fromParquet}')`);
  assert.equal(spark.length, 400);
  assert.ok(
    iceberg.some((r) => r.note !== null) && iceberg.some((r) => r.level !== null),
    "some rows matched",
  );
  assert.ok(
    iceberg.some((r) => r.note === null),
    "some rows had no match",
  );
  assert.deepEqual(iceberg, parquet, "DuckDB over the Iceberg tables = DuckDB over the Parquet");
  assert.deepEqual(spark, iceberg, "Spark = DuckDB");

  // The command over the same warehouse: the same rows, and the same Spark script.
  const fromCli = path.join(tmp.dir, "cli.parquet");
  const env = { STRATA_REPO: repoFile, STRATA_OFFLINE_WAREHOUSE: warehouse };
  const cli = await runInProcess(
    [
      "training-set",
      "--entities",
      entityFile,
      "--service",
      "pit_model",
      "--out",
      fromCli,
      "--json",
    ],
    { env },
  );
  assert.equal(cli.code, 0, cli.stderr);
  const answer = JSON.parse(cli.stdout) as { rows: number; columns: string[] };
  assert.equal(answer.rows, 400);
  assert.deepEqual(await read(`read_parquet('${fromCli}')`), iceberg);
  const cliScript = path.join(tmp.dir, "cli.sql");
  const emitted = await runInProcess(
    ["training-set", "--entities", entityFile, "--service", "pit_model", "--spark-sql", cliScript],
    { env },
  );
  assert.equal(emitted.code, 0, emitted.stderr);
  assert.equal(readFileSync(cliScript, "utf8"), trainingSetSparkSql(plan, project));

  // The offline tables as DuckDB views, for users' SQL.
  const { registered } = await registerOfflineViews(engine.connection, registry, warehouse);
  assert.deepEqual(
    registered.map((r) => r.name),
    ["stats_v1", "zone_v2"],
  );
  const counted = await engine.connection.runAndReadAll(
    "SELECT count(*)::INTEGER AS n FROM stats_v1",
  );
  assert.equal(counted.getRowObjectsJS()[0]!.n, stats.length);
  console.log(`spark local: ${sparkSeconds.toFixed(1)}s including start-up`);
});

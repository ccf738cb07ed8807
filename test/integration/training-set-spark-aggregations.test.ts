// Aggregation features on the scale-out path: the Spark SQL script, run on Spark local over an
// aggregation view's event table that Spark writes (random histories with re-deliveries and
// late events) and a plain view's table, gives the embedded engine's training set.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { runSparkSql } from "../../dev/spark/spark-local.js";
import { openEmbeddedEngine, type EmbeddedEngine } from "../../shared/offline/duckdb.js";
import { parquetHistory, warehouseHistory } from "../../shared/offline/history-source.js";
import { trainingSetSparkSql } from "../../shared/offline/spark-training-set.js";
import { sparkIdent } from "../../shared/offline/sql.js";
import { offlineTableId } from "../../shared/offline/table-names.js";
import { buildTrainingSet, prepareTrainingSet } from "../../shared/offline/training-set.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { sameAggregate } from "../support/offline-aggregation-model.js";
import { tempDir, writeHistory, writeParquet } from "../support/offline-history.js";
import { parityRounds } from "../support/parity-events.js";
import { parityRepo } from "../support/parity-repo.js";

const project = "spark_agg";
const registry = new FeatureRegistry(parityRepo(project));
const view = registry.aggregationView("card_velocity@1");
const CARDS = [1, 2, 3, 4];
const START = Date.UTC(2026, 11, 1, 12);

let engine: EmbeddedEngine;
const tmp = tempDir("strata-spark-agg");
before(async () => {
  engine = await openEmbeddedEngine({ threads: 2 });
  await engine.connection.run("SET TimeZone = 'UTC'");
});
after(() => {
  engine.close();
  tmp.remove();
});

test("the Spark SQL script computes aggregation features as the embedded engine does", async () => {
  const rounds = parityRounds({
    seed: 77,
    start: START,
    rounds: 4,
    roundMs: 20 * 60_000,
    eventsPerRound: 60,
    cards: CARDS,
  });
  const events = rounds.flatMap((r) => r.events);
  const rows = events.map((e, offset) => [
    e.cardId,
    e.amount,
    e.qty,
    e.ts * 1000,
    "strata.spark_agg.events",
    e.cardId % 2,
    offset,
  ]);
  // A re-delivery of the first hundred events: duplicate rows.
  const eventsFile = path.join(tmp.dir, "events.parquet");
  await writeParquet(
    engine.connection,
    eventsFile,
    [
      { name: "card_id", type: "BIGINT" },
      { name: "amount", type: "DOUBLE" },
      { name: "qty", type: "BIGINT" },
      { name: "event_timestamp", type: "TIMESTAMPTZ" },
      { name: "strata_source_topic", type: "VARCHAR" },
      { name: "strata_partition", type: "INTEGER" },
      { name: "strata_offset", type: "BIGINT" },
    ],
    [...rows, ...rows.slice(0, 100)],
  );
  const profileFile = path.join(tmp.dir, "profile.parquet");
  await writeHistory(
    engine.connection,
    profileFile,
    [{ name: "card_id", type: "BIGINT" }],
    [{ name: "limit", type: "DOUBLE" }],
    CARDS.slice(1).map((id) => ({
      keys: { card_id: id },
      values: { limit: id * 100 },
      version: {
        eventTsMs: START,
        epoch: 0,
        hlc: { wallMs: START, counter: 0 },
        originRegion: "a",
      },
    })),
  );
  const entityFile = path.join(tmp.dir, "entities.parquet");
  await writeParquet(
    engine.connection,
    entityFile,
    [
      { name: "request_id", type: "INTEGER" },
      { name: "card_id", type: "BIGINT" },
      { name: "event_timestamp", type: "TIMESTAMPTZ" },
    ],
    Array.from({ length: 200 }, (_, i) => [
      i,
      CARDS[i % CARDS.length]! + (i % 17 === 0 ? 10 : 0), // some cards without events
      (START - 5 * 60_000 + Math.floor((((i * 7919) % 200) / 200) * 90 * 60_000)) * 1000 + (i % 3),
    ]),
  );

  const features = [
    "card_profile:limit",
    ...view.aggregation.aggregations.map((a) => `card_velocity:${a.name}`),
  ];
  const parquetSources = (v: { key: string }) =>
    parquetHistory(v.key === "card_profile@1" ? profileFile : eventsFile);
  const plan = await prepareTrainingSet(engine.connection, {
    registry,
    features,
    entities: entityFile,
    history: parquetSources,
  });
  const warehouse = path.join(tmp.dir, "warehouse");
  const table = (viewKey: string) => {
    const id = offlineTableId(project, viewKey);
    return `strata.${sparkIdent(id.namespace)}.${sparkIdent(id.table)}`;
  };
  const setup = [
    `CREATE NAMESPACE IF NOT EXISTS strata.${sparkIdent(offlineTableId(project, view.key).namespace)}`,
    `CREATE TABLE ${table(view.key)} USING iceberg PARTITIONED BY (days(event_timestamp)) AS SELECT * FROM parquet.\`${eventsFile}\``,
    `CREATE TABLE ${table("card_profile@1")} USING iceberg PARTITIONED BY (days(event_timestamp)) AS SELECT * FROM parquet.\`${profileFile}\``,
  ].join("\n;\n");
  const script = path.join(tmp.dir, "training-set.sql");
  writeFileSync(script, `${setup}\n;\n${trainingSetSparkSql(plan, project)}`);
  const sparkOut = path.join(tmp.dir, "spark-out");
  await runSparkSql(warehouse, script, { entities: entityFile, out: sparkOut });

  const fromIceberg = path.join(tmp.dir, "duckdb.parquet");
  await buildTrainingSet(
    {
      registry,
      features,
      entities: entityFile,
      out: fromIceberg,
      history: warehouseHistory(warehouse, project),
    },
    { engine },
  );
  const read = async (source: string) =>
    (
      await engine.connection.runAndReadAll(`SELECT * FROM ${source} ORDER BY request_id`)
    ).getRowObjectsJS();
  const spark = await read(`read_parquet('${sparkOut}/*.parquet')`);
  const duck = await read(`read_parquet('${fromIceberg}')`);
  assert.equal(spark.length, 200);
  assert.deepEqual(Object.keys(spark[0]!), Object.keys(duck[0]!), "the same columns, in order");
  const plain = (v: unknown): unknown =>
    typeof v === "bigint" ? Number(v) : Array.isArray(v) ? v.map(plain) : v;
  let nonEmpty = 0;
  duck.forEach((row, i) => {
    assert.equal(plain(spark[i]!.limit), plain(row.limit));
    for (const agg of view.aggregation.aggregations) {
      const want = plain(row[agg.name]);
      const have = plain(spark[i]![agg.name]);
      assert.ok(
        sameAggregate(agg.function, have, want),
        `request ${i} ${agg.name}: spark ${JSON.stringify(have)}, duckdb ${JSON.stringify(want)}`,
      );
      if (want !== null && want !== 0) nonEmpty += 1;
    }
  });
  assert.ok(nonEmpty > duck.length, "most rows have aggregates");
  assert.ok(
    duck.some((r) => r.n_10m === null),
    "some rows have no aggregation state",
  );
});

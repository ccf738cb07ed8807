// Aggregates in training sets, computed by DuckDB from an aggregation view's event table
// (aggregation-sql.ts), against a brute-force model of the online apply rules over random
// event histories: re-deliveries, events within and beyond the allowed lateness, ties.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import type {
  AggregationPart,
  OfflineAggregation,
} from "../../../shared/offline/aggregation-sql.js";
import { openEmbeddedEngine, type EmbeddedEngine } from "../../../shared/offline/duckdb.js";
import { loadEntityFrame } from "../../../shared/offline/entity-frame.js";
import { parquetHistory } from "../../../shared/offline/history-source.js";
import { trainingSetSparkSql } from "../../../shared/offline/spark-training-set.js";
import {
  buildTrainingSet,
  prepareTrainingSet,
  trainingSetSql,
} from "../../../shared/offline/training-set.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";
import {
  AggregationModel,
  sameAggregate,
  type ModelEvent,
} from "../../support/offline-aggregation-model.js";
import { tempDir, writeHistory, writeParquet } from "../../support/offline-history.js";
import { parityRepo } from "../../support/parity-repo.js";

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const MIN = 60_000;
const LATENESS_MS = 3 * MIN;
const TOPIC = "strata.p.events";

const AGGREGATIONS: OfflineAggregation[] = [
  { name: "n_10m", function: "count", windowMs: 10 * MIN, tileMs: MIN },
  { name: "amount_10m", function: "sum", column: "amount", windowMs: 10 * MIN, tileMs: MIN },
  { name: "qty_5m", function: "sum", column: "qty", windowMs: 5 * MIN, tileMs: MIN },
  { name: "mean_20m", function: "mean", column: "amount", windowMs: 20 * MIN, tileMs: 5 * MIN },
  { name: "min_10m", function: "min", column: "amount", windowMs: 10 * MIN, tileMs: 2 * MIN },
  { name: "max_qty", function: "max", column: "qty", windowMs: 10 * MIN, tileMs: MIN },
  { name: "last3", function: "last_n", column: "amount", n: 3, windowMs: 10 * MIN, tileMs: MIN },
];

const part = (events: string): AggregationPart => ({
  kind: "aggregation",
  view: {
    key: "card_velocity@1",
    joinKeys: [{ name: "card_id", type: "int64" }],
    inputs: new Map([
      ["amount", "float64"],
      ["qty", "int64"],
    ]),
    allowedLatenessMs: LATENESS_MS,
  },
  refs: AGGREGATIONS.map((aggregation) => ({ aggregation, column: aggregation.name })),
  source: parquetHistory(events),
});

let engine: EmbeddedEngine;
const tmp = tempDir("strata-agg-ts");

before(async () => {
  engine = await openEmbeddedEngine({ threads: 1 });
  await engine.connection.run("SET TimeZone = 'UTC'");
});
after(() => {
  engine?.close();
  tmp.remove();
});

async function writeEvents(file: string, deliveries: readonly ModelEvent[]): Promise<void> {
  await writeParquet(
    engine.connection,
    file,
    [
      { name: "card_id", type: "BIGINT" },
      { name: "amount", type: "DOUBLE" },
      { name: "qty", type: "BIGINT" },
      { name: "event_timestamp", type: "TIMESTAMPTZ" },
      { name: "strata_source_topic", type: "VARCHAR" },
      { name: "strata_partition", type: "INTEGER" },
      { name: "strata_offset", type: "BIGINT" },
    ],
    deliveries.map((e) => [
      Number(e.entity),
      e.values.amount ?? null,
      e.values.qty ?? null,
      e.ts * 1000,
      e.topic,
      e.partition,
      e.offset,
    ]),
  );
}

/** Runs the training set of `rows` (entity, time) against the event table. */
async function offlineValues(
  events: string,
  entities: string,
  rows: readonly [string, number][],
): Promise<Record<string, unknown>[]> {
  await writeParquet(
    engine.connection,
    entities,
    [
      { name: "card_id", type: "BIGINT" },
      { name: "event_timestamp", type: "TIMESTAMPTZ" },
    ],
    rows.map(([entity, t]) => [Number(entity), t * 1000]),
  );
  const frame = await loadEntityFrame(engine.connection, {
    file: entities,
    joinKeys: [{ name: "card_id", type: "int64" }],
    timestampColumn: "event_timestamp",
  });
  const sql = trainingSetSql({
    frame,
    parts: [],
    aggregations: [part(events)],
    timestampColumn: "event_timestamp",
    columns: [...frame.columns.map((c) => c.name), ...AGGREGATIONS.map((a) => a.name)],
  });
  const result = await engine.connection.runAndReadAll(sql);
  return result
    .getRowObjectsJS()
    .map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => [
          k,
          typeof v === "bigint"
            ? Number(v)
            : Array.isArray(v)
              ? v.map((x) => (typeof x === "bigint" ? Number(x) : x))
              : v,
        ]),
      ),
    );
}

const eventArb = fc.record({
  entity: fc.constantFrom("1", "2", "3"),
  // Mostly forward in time, some far behind (beyond the lateness), some on the same millisecond.
  step: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 60 })),
  back: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 8 * 60 })),
  amount: fc.option(
    fc.integer({ min: -50_00, max: 500_00 }).map((c) => c / 100),
    {
      freq: 6,
    },
  ),
  qty: fc.integer({ min: 0, max: 9 }),
});

const historyArb = fc.record({
  events: fc.array(eventArb, { minLength: 1, maxLength: 60 }),
  /** Indices of events delivered again (a consumer rewound), after the first delivery of all. */
  replays: fc.array(fc.nat(), { maxLength: 20 }),
  reads: fc.array(fc.integer({ min: -2 * 60, max: 45 * 60 }), { minLength: 1, maxLength: 8 }),
});

describe("aggregation training sets against the online apply rules", () => {
  it("gives each (entity, time) the value the model of the online store serves", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(historyArb, async ({ events, replays, reads }) => {
        run += 1;
        const offsets = [0, 0];
        let clock = T0;
        const produced: ModelEvent[] = events.map((e) => {
          clock += e.step * 1000;
          const partition = Number(e.entity) % 2;
          return {
            entity: e.entity,
            ts: clock - e.back * 1000,
            topic: TOPIC,
            partition,
            offset: offsets[partition]!++,
            values: { amount: e.amount, qty: e.qty },
          };
        });
        const deliveries = [...produced, ...replays.map((i) => produced[i % produced.length]!)];
        const model = new AggregationModel(LATENESS_MS);
        for (const event of deliveries) model.deliver(event);

        const file = path.join(tmp.dir, `events-${run}.parquet`);
        // Row order in the table is not delivery order: the query must not depend on it.
        await writeEvents(file, [...deliveries].reverse());
        const rows: [string, number][] = [];
        for (const entity of ["1", "2", "3"]) {
          for (const r of reads) rows.push([entity, T0 + r * 1000]);
        }
        const got = await offlineValues(file, path.join(tmp.dir, `entities-${run}.parquet`), rows);
        rows.forEach(([entity, t], i) => {
          for (const aggregation of AGGREGATIONS) {
            const want = model.value(entity, t, aggregation);
            const have = got[i]![aggregation.name];
            assert.ok(
              sameAggregate(aggregation.function, have, want),
              `${aggregation.name} of card ${entity} at T0+${(t - T0) / 1000}s: offline ${JSON.stringify(have)}, online model ${JSON.stringify(want)}`,
            );
          }
        });
      }),
      { numRuns: 40 },
    );
  });

  it("counts an event once however often it was projected, and leaves out too-late events", async () => {
    const at = (s: number) => T0 + s * 1000;
    const e = (offset: number, ts: number, amount: number): ModelEvent => ({
      entity: "7",
      ts,
      topic: TOPIC,
      partition: 1,
      offset,
      values: { amount, qty: 1 },
    });
    const file = path.join(tmp.dir, "fixed.parquet");
    // offset 0 at 10:00 applied; offset 1 at +10 min raises the watermark; offset 2 is 4 min
    // behind it (lateness 3 min): too late, although its time is within the window; offset 3
    // is 2 min behind: applied. Offset 0 is projected three times.
    await writeEvents(file, [
      e(0, at(0), 1),
      e(1, at(600), 10),
      e(0, at(0), 1),
      e(2, at(360), 100),
      e(3, at(480), 1000),
      e(0, at(0), 1),
    ]);
    const got = await offlineValues(file, path.join(tmp.dir, "fixed-entities.parquet"), [
      ["7", at(-1)],
      ["7", at(0)],
      ["7", at(700)],
      ["8", at(700)],
    ]);
    assert.equal(got[0]!.n_10m, null, "no state before its first event: NOT_FOUND");
    assert.equal(got[0]!.last3, null);
    assert.equal(got[1]!.n_10m, 1);
    assert.deepEqual(got[1]!.last3, [1]);
    // At +700 s the 10-minute window starts at the tile of +120 s: offsets 1 and 3 only.
    assert.equal(got[2]!.n_10m, 2);
    assert.equal(got[2]!.amount_10m, 1010);
    assert.deepEqual(got[2]!.last3, [10, 1000]);
    assert.equal(got[2]!.min_10m, 10);
    assert.equal(got[3]!.n_10m, null, "an entity without events");
  });

  it("mixes plain and aggregation features in one training set, through the registry and a feature service", async () => {
    const registry = new FeatureRegistry(parityRepo("agg_unit"));
    const at = (s: number) => T0 + s * 1000;
    const profile = path.join(tmp.dir, "profile.parquet");
    await writeHistory(
      engine.connection,
      profile,
      [{ name: "card_id", type: "BIGINT" }],
      [{ name: "limit", type: "DOUBLE" }],
      [
        {
          keys: { card_id: 5 },
          values: { limit: 500 },
          version: {
            eventTsMs: at(-60),
            epoch: 0,
            hlc: { wallMs: T0, counter: 0 },
            originRegion: "a",
          },
        },
      ],
    );
    const velocity = path.join(tmp.dir, "velocity.parquet");
    const e = (offset: number, ts: number, amount: number | null): ModelEvent => ({
      entity: "5",
      ts,
      topic: TOPIC,
      partition: 0,
      offset,
      values: { amount, qty: 2 },
    });
    await writeEvents(velocity, [e(0, at(0), 3.5), e(1, at(30), null), e(2, at(30), 4.25)]);
    const entities = path.join(tmp.dir, "mixed.csv");
    writeFileSync(
      entities,
      `card_id,event_timestamp,label\n5,${new Date(at(40)).toISOString()},1\n6,${new Date(at(40)).toISOString()},0\n`,
    );
    const out = path.join(tmp.dir, "mixed.parquet");
    const result = await buildTrainingSet(
      {
        registry,
        service: "fraud_model",
        entities,
        history: (view) => parquetHistory(view.key === "card_profile@1" ? profile : velocity),
        out,
        fullFeatureNames: true,
      },
      { engine },
    );
    assert.deepEqual(result.columns, [
      "card_id",
      "event_timestamp",
      "label",
      "card_profile__limit",
      "card_velocity__n_10m",
      "card_velocity__last3",
    ]);
    const rows = (
      await engine.connection.runAndReadAll(
        `SELECT card_id::VARCHAR AS card_id, card_profile__limit AS l, card_velocity__n_10m::INTEGER AS n, card_velocity__last3 AS last3 FROM read_parquet('${out}')`,
      )
    ).getRowObjectsJS();
    assert.deepEqual(rows, [
      { card_id: "5", l: 500, n: 3, last3: [4.25, 3.5] },
      { card_id: "6", l: null, n: null, last3: null },
    ]);

    // The Spark script computes them too (test/integration/training-set-spark-aggregations.test.ts runs it).
    const plan = await prepareTrainingSet(engine.connection, {
      registry,
      service: "fraud_model",
      entities,
      history: (view) => parquetHistory(view.key === "card_profile@1" ? profile : velocity),
    });
    const script = trainingSetSparkSql(plan, registry.project);
    assert.match(script, /CREATE OR REPLACE TEMPORARY VIEW strata_events_0 AS/);
    assert.match(script, /strata\.`strata_agg_unit`\.`card_velocity_v1`/);
  });
});

// Training sets over Parquet histories: the tie and maxAge rules on hand-picked rows, entity
// files in Parquet and CSV, output naming, and every refusal with its STRATA_E_* code.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { ErrorCode } from "../../../shared/errors.js";
import { isStrataError } from "../../../shared/errors.js";
import { openEmbeddedEngine, type EmbeddedEngine } from "../../../shared/offline/duckdb.js";
import {
  parquetHistory,
  warehouseHistory,
  type HistorySources,
} from "../../../shared/offline/history-source.js";
import {
  latestPerEntitySql,
  readOfflineRows,
  registerOfflineViews,
} from "../../../shared/offline/offline-tables.js";
import { buildTrainingSet, type TrainingSetRequest } from "../../../shared/offline/training-set.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";
import type { Version } from "../../../shared/versions/index.js";
import { tempDir, writeHistory, writeParquet } from "../../support/offline-history.js";

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const registry = new FeatureRegistry({
  project: "ts_unit",
  entities: [
    { name: "driver", joinKeys: { driver_id: "int64" } },
    { name: "account", joinKeys: { account: "string" } },
  ],
  views: [
    {
      name: "stats",
      version: "1.0.0",
      entities: ["driver"],
      features: { trips: "int64", label: "string" },
      maxAgeMs: 60_000,
    },
    {
      name: "stats",
      version: "2.0.0",
      entities: ["driver"],
      features: { trips: "int64", tags: "string[]" },
      maxAgeMs: 60_000,
    },
    {
      name: "risk",
      version: "1.0.0",
      entities: ["account"],
      features: { score: "float64" },
      maxAgeMs: 10_000,
    },
  ],
  services: [{ name: "model_a", features: ["stats@1:trips", "risk:score"] }],
});

const v = (
  eventTsMs: number,
  epoch = 0,
  wallMs = T0,
  counter = 0,
  originRegion = "a",
): Version => ({
  eventTsMs,
  epoch,
  hlc: { wallMs, counter },
  originRegion,
});

let engine: EmbeddedEngine;
const tmp = tempDir("strata-ts-unit");
const file = (name: string) => path.join(tmp.dir, name);
const statsV1 = file("stats_v1.parquet");
const statsV2 = file("stats_v2.parquet");
const risk = file("risk.parquet");
const history: HistorySources = (view) =>
  parquetHistory(view.key === "stats@1" ? statsV1 : view.key === "stats@2" ? statsV2 : risk);

before(async () => {
  engine = await openEmbeddedEngine({ threads: 2 });
  await engine.connection.run("SET TimeZone = 'UTC'");
  const keys = [{ name: "driver_id", type: "BIGINT" }];
  await writeHistory(
    engine.connection,
    statsV1,
    keys,
    [
      { name: "trips", type: "BIGINT" },
      { name: "label", type: "VARCHAR" },
    ],
    [
      // Driver 1: four versions of one event time; the online order picks epoch, then HLC, then region.
      {
        keys: { driver_id: 1 },
        values: { trips: 10, label: "live-a" },
        version: v(T0, 0, T0 + 5, 0, "a"),
      },
      {
        keys: { driver_id: 1 },
        values: { trips: 11, label: "live-b" },
        version: v(T0, 0, T0 + 5, 0, "b"),
      },
      {
        keys: { driver_id: 1 },
        values: { trips: 12, label: "backfill" },
        version: v(T0, 1, T0, 0, "a"),
      },
      {
        keys: { driver_id: 1 },
        values: { trips: 12, label: "backfill" },
        version: v(T0, 1, T0, 0, "a"),
      },
      {
        keys: { driver_id: 1 },
        values: { trips: 13, label: "live-c" },
        version: v(T0, 0, T0 + 9, 3, "c"),
      },
      // A newer event with a null value: null is the value then, not the older one.
      { keys: { driver_id: 1 }, values: { trips: null, label: null }, version: v(T0 + 30_000) },
      // Driver 2: one version, to probe maxAge's edges.
      { keys: { driver_id: 2 }, values: { trips: 20, label: "two" }, version: v(T0) },
    ],
  );
  await writeHistory(
    engine.connection,
    statsV2,
    keys,
    [
      { name: "trips", type: "BIGINT" },
      { name: "tags", type: "VARCHAR[]" },
    ],
    [],
  );
  await engine.connection.run(
    `COPY (SELECT 1::BIGINT AS driver_id, 7::BIGINT AS trips, ['x', 'y'] AS tags, make_timestamp(${T0 * 1000}) AT TIME ZONE 'UTC' AS event_timestamp, '${"0".repeat(36)}a' AS strata_version) TO '${statsV2}' (FORMAT parquet)`,
  );
  await writeHistory(
    engine.connection,
    risk,
    [{ name: "account", type: "VARCHAR" }],
    [{ name: "score", type: "DOUBLE" }],
    [{ keys: { account: "007" }, values: { score: 0.5 }, version: v(T0 - 5_000) }],
  );
});
after(() => {
  engine.close();
  tmp.remove();
});

async function entities(name: string, rows: [number, string, number][]): Promise<string> {
  const out = file(name);
  await writeParquet(
    engine.connection,
    out,
    [
      { name: "driver_id", type: "BIGINT" },
      { name: "account", type: "VARCHAR" },
      { name: "event_timestamp", type: "TIMESTAMPTZ" },
    ],
    rows.map(([d, a, ms]) => [d, a, ms * 1000]),
  );
  return out;
}

async function run(request: Partial<TrainingSetRequest> & { entities: string }) {
  const out = file(`out-${Math.random().toString(36).slice(2)}.parquet`);
  const result = await buildTrainingSet({ registry, history, out, ...request }, { engine });
  const rows = (
    await engine.connection.runAndReadAll(`SELECT * FROM read_parquet('${out}')`)
  ).getRowObjectsJS();
  return { result, rows };
}

async function refused(code: ErrorCode, promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isStrataError(error, code), `expected ${code}, got ${String(error)}`);
    return true;
  });
}

describe("training sets", () => {
  it("resolves ties on event time as the online CAS does, keeps null values, and bounds by maxAge inclusively", async () => {
    const file = await entities("ties.parquet", [
      [1, "x", T0 - 1], // before every version
      [1, "x", T0], // at the tie: epoch 1 (the backfill) beats every live version
      [1, "x", T0 + 29_999],
      [1, "x", T0 + 30_000], // the newer null version
      [2, "x", T0 + 60_000], // exactly maxAge old: still in
      [2, "x", T0 + 60_001], // past maxAge: null
      [3, "x", T0], // no history
    ]);
    const { rows } = await run({ entities: file, features: ["stats@1:trips", "stats@1:label"] });
    assert.deepEqual(
      rows.map((r) => [r.driver_id, r.trips, r.label]),
      [
        [1n, null, null],
        [1n, 12n, "backfill"],
        [1n, 12n, "backfill"],
        [1n, null, null],
        [2n, 20n, "two"],
        [2n, null, null],
        [3n, null, null],
      ],
    );
  });

  it("orders live versions of one event time by HLC, then origin region", async () => {
    const ties = file("ties-live.parquet");
    await writeHistory(
      engine.connection,
      ties,
      [{ name: "driver_id", type: "BIGINT" }],
      [
        { name: "trips", type: "BIGINT" },
        { name: "label", type: "VARCHAR" },
      ],
      [
        {
          keys: { driver_id: 1 },
          values: { trips: 1, label: "b" },
          version: v(T0, 0, T0 + 5, 0, "b"),
        },
        {
          keys: { driver_id: 1 },
          values: { trips: 2, label: "a" },
          version: v(T0, 0, T0 + 5, 0, "a"),
        },
        {
          keys: { driver_id: 2 },
          values: { trips: 3, label: "hlc" },
          version: v(T0, 0, T0 + 5, 1, "a"),
        },
        {
          keys: { driver_id: 2 },
          values: { trips: 4, label: "low" },
          version: v(T0, 0, T0 + 5, 0, "z"),
        },
      ],
    );
    const { rows } = await run({
      entities: await entities("ties-live-e.parquet", [
        [1, "x", T0],
        [2, "x", T0],
      ]),
      features: ["stats@1:label"],
      history: () => parquetHistory(ties),
    });
    assert.deepEqual(
      rows.map((r) => r.label),
      ["b", "hlc"],
    );
  });

  it("takes a feature service, keeps the input columns and order, names features like serving", async () => {
    const file = await entities("service.parquet", [
      [2, "007", T0],
      [1, "008", T0],
      [2, "007", T0 + 5_000],
    ]);
    const { result, rows } = await run({ entities: file, service: "model_a" });
    assert.deepEqual(result.columns, ["driver_id", "account", "event_timestamp", "trips", "score"]);
    assert.deepEqual(
      rows.map((r) => [r.driver_id, r.account, r.trips, r.score]),
      [
        [2n, "007", 20n, 0.5],
        [1n, "008", 12n, null],
        [2n, "007", 20n, 0.5], // exactly 10 s (risk's maxAge) after the score
      ],
    );
    const full = await run({
      entities: file,
      features: ["stats@1:trips", "stats:trips", "stats:tags", "risk:score"],
      fullFeatureNames: true,
    });
    assert.deepEqual(full.result.columns.slice(3), [
      "stats@1__trips",
      "stats__trips",
      "stats__tags",
      "risk__score",
    ]);
    assert.deepEqual(full.rows[1]!.stats__tags, ["x", "y"]);
    await refused(
      "STRATA_E_FEATURE_NAME_COLLISION",
      run({ entities: file, features: ["stats@1:trips", "stats@2:trips"] }),
    );
  });

  it("reads CSV entity files: string keys kept as written, ISO timestamps with or without a zone (UTC)", async () => {
    const csv = file("entities.csv");
    writeFileSync(
      csv,
      [
        "account,ts,note",
        `007,${new Date(T0).toISOString()},a`,
        `007,${new Date(T0 + 10_001).toISOString().replace("Z", "")},b`,
        `007,2026-12-01T13:00:04+01:00,c`,
      ].join("\n"),
    );
    const { rows } = await run({ entities: csv, features: ["risk:score"], timestampColumn: "ts" });
    assert.deepEqual(
      rows.map((r) => [r.account, r.note, r.score]),
      [
        ["007", "a", 0.5],
        ["007", "b", null],
        ["007", "c", 0.5], // 12:00:04Z: 9 s after the score, within maxAge
      ],
    );
    assert.ok(rows[0]!.ts instanceof Date);
  });

  it("keeps the order of a Parquet file that has its own file_row_number column", async () => {
    const own = file("own-row-number.parquet");
    await writeParquet(
      engine.connection,
      own,
      [
        { name: "file_row_number", type: "INTEGER" },
        { name: "driver_id", type: "BIGINT" },
        { name: "event_timestamp", type: "TIMESTAMPTZ" },
      ],
      [
        [7, 2, T0 * 1000],
        [3, 1, T0 * 1000],
        [5, 3, T0 * 1000],
      ],
    );
    const { rows } = await run({ entities: own, features: ["stats@1:trips"] });
    assert.deepEqual(
      rows.map((r) => [r.file_row_number, r.trips]),
      [
        [7, 20n],
        [3, 12n],
        [5, null],
      ],
    );
  });

  it("refuses bad requests and bad entity files with their codes", async () => {
    const good = await entities("good.parquet", [[1, "007", T0]]);
    await refused("STRATA_E_UNKNOWN_VIEW", run({ entities: good, features: ["nope:trips"] }));
    await refused("STRATA_E_UNKNOWN_FEATURE", run({ entities: good, features: ["stats:nope"] }));
    await refused("STRATA_E_UNKNOWN_FEATURE_SERVICE", run({ entities: good, service: "nope" }));
    await refused("STRATA_E_BAD_FEATURE_REF", run({ entities: good, features: ["stats.trips"] }));
    await refused("STRATA_E_BAD_REQUEST", run({ entities: good }));
    await refused(
      "STRATA_E_BAD_ENTITY_FILE",
      run({ entities: file("missing.parquet"), features: ["risk:score"] }),
    );
    await refused(
      "STRATA_E_NO_TIMESTAMP_COLUMN",
      run({ entities: good, features: ["risk:score"], timestampColumn: "when" }),
    );
    const noKey = file("nokey.csv");
    writeFileSync(noKey, `driver_id,event_timestamp\n1,${new Date(T0).toISOString()}\n`);
    await refused("STRATA_E_MISSING_JOIN_KEY", run({ entities: noKey, features: ["risk:score"] }));
    const badKey = file("badkey.csv");
    writeFileSync(
      badKey,
      `driver_id,event_timestamp\n1,${new Date(T0).toISOString()}\nx1,${new Date(T0).toISOString()}\n`,
    );
    await refused("STRATA_E_ENTITY_KEY_TYPE", run({ entities: badKey, features: ["stats:trips"] }));
    const stringKey = file("stringkey.parquet");
    await writeParquet(
      engine.connection,
      stringKey,
      [
        { name: "driver_id", type: "VARCHAR" },
        { name: "event_timestamp", type: "TIMESTAMPTZ" },
      ],
      [["1", T0 * 1000]],
    );
    await refused(
      "STRATA_E_ENTITY_KEY_TYPE",
      run({ entities: stringKey, features: ["stats:trips"] }),
    );
    const textTs = file("textts.parquet");
    await writeParquet(
      engine.connection,
      textTs,
      [
        { name: "driver_id", type: "BIGINT" },
        { name: "event_timestamp", type: "VARCHAR" },
      ],
      [[1, "2026-12-01"]],
    );
    await refused(
      "STRATA_E_BAD_TIMESTAMP_COLUMN",
      run({ entities: textTs, features: ["stats:trips"] }),
    );
    const badTs = file("badts.csv");
    writeFileSync(badTs, "driver_id,event_timestamp\n1,yesterday\n");
    await refused(
      "STRATA_E_BAD_TIMESTAMP_COLUMN",
      run({ entities: badTs, features: ["stats:trips"] }),
    );
    const nullTs = file("nullts.csv");
    writeFileSync(nullTs, `driver_id,event_timestamp\n1,${new Date(T0).toISOString()}\n2,\n`);
    await refused(
      "STRATA_E_BAD_TIMESTAMP_COLUMN",
      run({ entities: nullTs, features: ["stats:trips"] }),
    );
    const empty = file("empty.csv");
    writeFileSync(empty, "");
    await refused(
      "STRATA_E_EMPTY_ENTITY_FILE",
      run({ entities: empty, features: ["stats:trips"] }),
    );
    const headerOnly = file("header.csv");
    writeFileSync(headerOnly, "driver_id,event_timestamp\n");
    await refused(
      "STRATA_E_EMPTY_ENTITY_FILE",
      run({ entities: headerOnly, features: ["stats:trips"] }),
    );
    const emptyParquet = await entities("empty.parquet", []);
    await refused(
      "STRATA_E_EMPTY_ENTITY_FILE",
      run({ entities: emptyParquet, features: ["stats:trips"] }),
    );
  });

  it("refuses a view whose offline table was never written, or lacks a column", async () => {
    const good = await entities("good2.parquet", [[1, "007", T0]]);
    await refused(
      "STRATA_E_OFFLINE_TABLE_MISSING",
      run({
        entities: good,
        features: ["stats:trips"],
        history: warehouseHistory(file("warehouse"), registry.project),
      }),
    );
    await refused(
      "STRATA_E_OFFLINE_TABLE_SCHEMA",
      run({ entities: good, features: ["stats@1:trips"], history: () => parquetHistory(risk) }),
    );
    const out = file("never.parquet");
    await assert.rejects(
      buildTrainingSet(
        { registry, history, entities: good, features: ["stats:nope"], out },
        { engine },
      ),
    );
    assert.equal((await import("node:fs")).existsSync(out), false, "no output file on failure");
  });
});

describe("offline table readers", () => {
  it("reads a view's rows and each entity's winning row at a time", async () => {
    const view = registry.view("stats", 1);
    const rows = await readOfflineRows(engine.connection, view, parquetHistory(statsV1), {
      where: "driver_id = 1",
    });
    assert.equal(rows.length, 6);
    const latest = (
      await engine.connection.runAndReadAll(
        `SELECT driver_id, label FROM (${latestPerEntitySql(view, parquetHistory(statsV1), T0 + 1)}) ORDER BY driver_id`,
      )
    ).getRowObjectsJS();
    assert.deepEqual(latest, [
      { driver_id: 1n, label: "backfill" },
      { driver_id: 2n, label: "two" },
    ]);
  });

  it("lists the view majors whose tables are missing instead of registering them", async () => {
    const { registered, missing } = await registerOfflineViews(
      engine.connection,
      registry,
      file("empty-warehouse"),
    );
    assert.deepEqual(registered, []);
    assert.deepEqual(
      missing.map((m) => m.name),
      ["stats_v1", "stats_v2", "risk_v1"],
    );
  });
});

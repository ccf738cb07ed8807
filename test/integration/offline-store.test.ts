import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { connectUrl, resolveEndpoints } from "../../dev/stack/endpoints.js";
import { stackPaths } from "../../dev/stack/paths.js";
import { encodeChangelogRecord } from "../../shared/changelog/record.js";
import { changelogTopic, replicatedChangelogTopic } from "../../shared/changelog/topics.js";
import { openEmbeddedEngine } from "../../shared/offline/duckdb.js";
import { warehouseHistory } from "../../shared/offline/history-source.js";
import { buildTrainingSet } from "../../shared/offline/training-set.js";
import { projectorGroupId } from "../../shared/offline/projector.js";
import { offlineTableDir } from "../../shared/offline/table-names.js";
import { prepareWrites } from "../../shared/online-store/write-path.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { decodeVersion } from "../../shared/versions/version.js";
import { startIngestProcess, type IngestProcess } from "../support/ingest-process.js";
import { offlineTestRepo } from "../support/offline-repo.js";
import {
  columns,
  DAY_MS,
  dayTimes,
  DRIVER_ROWS,
  DRIVER_SCHEMA,
  ZONE_ROWS,
} from "../support/offline-rows.js";
import { pyIcebergPython, readIcebergTable, type IcebergRead } from "../support/pyiceberg.js";
import { startServeProcess, type ServeProcess } from "../support/serve-process.js";
import { uniqueProject, waitFor } from "../support/store.js";

const REGION = "test-offline";
const REPO = "test/support/offline-repo-module.ts";
/** A peer region whose replicated changelog copy this region's ingest reads (as MirrorMaker 2 would fill it). */
const PEER = "test-offline-peer";
const COMMIT_INTERVAL_MS = 5_000;
/** Table creation, the sink task joining its control topic, and a commit interval or two. */
const COMMIT_TIMEOUT_MS = 90_000;

/** A row's identity in the table: entity and version (a duplicate delivery repeats both). */
const identity = (row: Record<string, unknown>, keys: string[]) =>
  JSON.stringify([...keys.map((k) => row[k]), row.strata_version]);

describe("offline store: /push -> changelog -> projector -> Iceberg sink -> Iceberg tables", () => {
  const project = uniqueProject("offline");
  const warehouse = stackPaths.warehouse;
  const driverTable = offlineTableDir(warehouse, project, "driver_all@1");
  const zoneTable = offlineTableDir(warehouse, project, "zone_load@2");
  const kafka = new Kafka({
    brokers: resolveEndpoints().kafka.address,
    logLevel: logLevel.NOTHING,
  });
  let python: string;
  let serve: ServeProcess;
  let ingest: IngestProcess;
  let firstRead: IcebergRead;
  let pushedAt = 0;

  const startIngest = async () => {
    const started = startIngestProcess({
      project,
      region: REGION,
      peers: [PEER],
      env: {
        STRATA_REPO: REPO,
        STRATA_OFFLINE: "on",
        STRATA_CONNECT_URL: connectUrl(),
        STRATA_OFFLINE_WAREHOUSE: warehouse,
        STRATA_OFFLINE_COMMIT_INTERVAL_MS: String(COMMIT_INTERVAL_MS),
      },
    });
    await waitFor(
      () =>
        started.output().includes('"projecting to the offline store"') ||
        started.child.exitCode !== null,
      60_000,
      "ingest starts projecting",
      100,
    );
    assert.equal(started.child.exitCode, null, started.output());
    return started;
  };

  const metric = async (name: string): Promise<number> => {
    const response = await fetch(`http://127.0.0.1:${ingest.metricsPort()}/metrics`);
    const text = await response.text();
    const lines = text.split("\n").filter((line) => line.startsWith(name));
    return lines.reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
  };

  /** Reads until the table has `rows` rows (PyIceberg over the current metadata). */
  const readWhenRows = async (tableDir: string, rows: number): Promise<IcebergRead> => {
    let read: IcebergRead | undefined;
    await waitFor(
      () => {
        try {
          read = readIcebergTable(python, tableDir);
        } catch {
          return false; // not created yet
        }
        return read.rows.length >= rows;
      },
      COMMIT_TIMEOUT_MS,
      `${tableDir} holds ${rows} rows`,
      1_000,
    );
    return read!;
  };

  before(async () => {
    python = pyIcebergPython();
    serve = await startServeProcess({
      project,
      topology: "standalone",
      region: REGION,
      env: { STRATA_REPO: REPO },
    });
    ingest = await startIngest();
  });

  after(async () => {
    await ingest?.stop();
    await serve?.stop();
    await fetch(`${connectUrl()}/connectors/strata-${project}-offline`, { method: "DELETE" }).catch(
      () => undefined,
    );
  });

  const push = async (source: string, df: string) => {
    const response = await fetch(`${serve.url}/push`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${serve.key}` },
      body: `{"push_source_name":"${source}","df":${df},"to":"online"}`,
    });
    assert.equal(response.status, 200, await response.text());
  };

  it("writes every pushed row, with its types, into its view major's table, partitioned by event day", async () => {
    await push("driver_push", columns(DRIVER_ROWS.slice(0, 3).map((r) => r.push)));
    await push("driver_push", columns([DRIVER_ROWS[3]!.push]));
    const zoneTime = dayTimes[1]!;
    await push(
      "zone_push",
      JSON.stringify({
        city: ZONE_ROWS.map((r) => r.city),
        zone_id: ZONE_ROWS.map((r) => r.zone_id),
        load: ZONE_ROWS.map((r) => r.load),
        event_timestamp: ZONE_ROWS.map(() => zoneTime),
      }),
    );
    pushedAt = performance.now();
    firstRead = await readWhenRows(driverTable, DRIVER_ROWS.length);
    const visibleMs = performance.now() - pushedAt;
    const zones = await readWhenRows(zoneTable, ZONE_ROWS.length);
    console.log(
      `pushed rows in the Iceberg table after ${(visibleMs / 1000).toFixed(1)} s (commit interval ${COMMIT_INTERVAL_MS / 1000} s)`,
    );

    assert.deepEqual(firstRead.schema, DRIVER_SCHEMA);
    assert.deepEqual(firstRead.partition, [{ source: "event_timestamp", transform: "day" }]);
    const days = new Set(firstRead.files.map((values) => values[0]));
    assert.deepEqual(
      [...days].sort(),
      dayTimes.map((ms) => String(Math.floor(ms / DAY_MS))).sort(),
      "one partition per event day",
    );
    assert.equal(firstRead.rows.length, DRIVER_ROWS.length);
    for (const { want } of DRIVER_ROWS) {
      const row = firstRead.rows.find(
        (r) => r.driver_id === want.driver_id && r.event_timestamp === want.event_timestamp,
      );
      assert.ok(row, `row ${JSON.stringify(want)} is in the table`);
      const { strata_version, strata_written_at, strata_table, ...rest } = row;
      assert.deepEqual(rest, want);
      assert.equal(strata_table, `strata_${project}.driver_all_v1`);
      const version = decodeVersion(strata_version as string);
      assert.equal(String(version.eventTsMs * 1000), want.event_timestamp);
      assert.equal(strata_written_at, String(version.hlc.wallMs * 1000));
      assert.equal(version.originRegion, REGION);
    }
    // Versions sort bytewise like the online order: the later event time's is the greater.
    const firstDriver = firstRead.rows
      .filter((r) => r.driver_id === "9007199254740995")
      .map((r) => r.strata_version as string);
    assert.equal(firstDriver.length, 2);

    assert.deepEqual(zones.schema.city, { type: "string", required: true });
    assert.deepEqual(zones.schema.zone_id, { type: "int", required: true });
    assert.deepEqual(zones.schema.load, { type: "double", required: false });
    assert.deepEqual(zones.rows.map((r) => [r.city, r.zone_id, r.load]).sort(), [
      ["oslo", "-3", null],
      ["paris", "7", "0.25"],
    ]);

    await waitFor(
      async () =>
        (await metric("strata_offline_commit_lag_records")) === 0 &&
        (await metric("strata_offline_projector_lag_records")) === 0,
      30_000,
      "the lag metrics fall to zero",
      500,
    );
    assert.equal(await metric("strata_offline_commit_lag_seconds"), 0);
    assert.equal(
      await metric('strata_offline_projected_total{view="driver_all@1"}'),
      DRIVER_ROWS.length,
    );
  });

  it("reads the same rows through Strata's own reader (DuckDB's iceberg_scan)", async () => {
    const engine = await openEmbeddedEngine({ threads: 1 });
    try {
      const reader = await engine.connection.runAndReadAll(
        `SELECT CAST(driver_id AS VARCHAR) AS driver_id, CAST(i64 AS VARCHAR) AS i64, strata_version
           FROM iceberg_scan('${driverTable}') ORDER BY strata_version`,
      );
      const rows = reader.getRowObjectsJS() as {
        driver_id: string;
        i64: string | null;
        strata_version: string;
      }[];
      const want = firstRead.rows
        .map((r) => ({ driver_id: r.driver_id, i64: r.i64, strata_version: r.strata_version }))
        .sort((a, b) => ((a.strata_version as string) < (b.strata_version as string) ? -1 : 1));
      assert.deepEqual(rows, want);
    } finally {
      engine.close();
    }
  });

  it("answers a training set from the sink's table: each entity row gets the value as of its time, within maxAge", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "strata-offline-ts-"));
    try {
      const [first, second] = dayTimes as [number, number];
      const iso = (ms: number) => new Date(ms).toISOString();
      const entities = path.join(dir, "entities.csv");
      writeFileSync(
        entities,
        [
          "driver_id,event_timestamp",
          `9007199254740995,${iso(first - 1_000)}`, // before its first event: null
          `9007199254740995,${iso(first + 1_000)}`, // its first event's value
          `9007199254740995,${iso(first + DAY_MS + 1_000)}`, // first event older than maxAge: null
          `9007199254740995,${iso(second + 1_000)}`, // its second event's value
          `2,${iso(first + 5)}`, // a null value stays null
        ].join("\n") + "\n",
      );
      const out = path.join(dir, "training.parquet");
      await buildTrainingSet({
        registry: new FeatureRegistry(offlineTestRepo(project)),
        features: ["driver_all:i64", "driver_all:s"],
        entities,
        history: warehouseHistory(warehouse, project),
        out,
      });
      const engine = await openEmbeddedEngine({ threads: 1 });
      try {
        const reader = await engine.connection.runAndReadAll(
          `SELECT CAST(i64 AS VARCHAR) AS i64, s FROM read_parquet('${out}')`,
        );
        assert.deepEqual(reader.getRowObjectsJS(), [
          { i64: null, s: null },
          { i64: "9007199254740993", s: 'h\u00e9llo "q"' },
          { i64: null, s: null },
          { i64: "1", s: "v2" },
          { i64: null, s: null },
        ]);
      } finally {
        engine.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("projects a peer region's records from its replicated changelog copy too", async () => {
    const registry = new FeatureRegistry(offlineTestRepo(project));
    const eventTsMs = dayTimes[1]!;
    const [write] = prepareWrites(registry, [
      {
        view: "zone_load@2",
        entity: { city: "lima", zone_id: 12 },
        values: { load: 3.5 },
        version: {
          eventTsMs,
          epoch: 0,
          hlc: { wallMs: Date.now(), counter: 0 },
          originRegion: PEER,
        },
      },
    ]);
    const record = encodeChangelogRecord(write!);
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: replicatedChangelogTopic(project, PEER),
        acks: -1,
        messages: [{ key: record.key, value: record.value }],
      });
    } finally {
      await producer.disconnect();
    }
    const zones = await readWhenRows(zoneTable, ZONE_ROWS.length + 1);
    const row = zones.rows.find((r) => r.city === "lima");
    assert.ok(row, "the peer's row is in the table");
    assert.equal(row.zone_id, "12");
    assert.equal(row.load, "3.5");
    assert.equal(row.event_timestamp, String(eventTsMs * 1000));
    assert.equal(decodeVersion(row.strata_version as string).originRegion, PEER);
  });

  it("keeps the table readable and each duplicate identical when the projector delivers everything again", async () => {
    await ingest.stop();
    // The projector's group starts over: every changelog record is projected and written again.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.resetOffsets({
        groupId: projectorGroupId(project, REGION),
        topic: changelogTopic(project),
        earliest: true,
      });
    } finally {
      await admin.disconnect();
    }
    ingest = await startIngest();
    const again = await readWhenRows(driverTable, 2 * DRIVER_ROWS.length);
    assert.equal(again.rows.length, 2 * DRIVER_ROWS.length);
    const groups = new Map<string, Record<string, unknown>[]>();
    for (const row of again.rows) {
      const key = identity(row, ["driver_id"]);
      groups.set(key, [...(groups.get(key) ?? []), row]);
    }
    assert.equal(groups.size, DRIVER_ROWS.length, "duplicates add no new (entity, version)");
    for (const [key, rows] of groups) {
      assert.equal(rows.length, 2, key);
      assert.deepEqual(rows[0], rows[1], `the duplicate of ${key} is identical`);
      const original = firstRead.rows.find((r) => identity(r, ["driver_id"]) === key);
      assert.deepEqual(rows[0], original);
    }
  });

  it("loses no record when ingest is killed while projecting (at-least-once)", async () => {
    const zones = Array.from({ length: 1_000 }, (_, i) => 1_000 + i);
    const before = readIcebergTable(python, zoneTable).rows.length;
    for (let start = 0; start < zones.length; start += 250) {
      const slice = zones.slice(start, start + 250);
      await push(
        "zone_push",
        JSON.stringify({
          city: slice.map(() => "crash"),
          zone_id: slice,
          load: slice.map((z) => z / 4),
          event_timestamp: slice.map(() => dayTimes[1]),
        }),
      );
    }
    // Killed at once: records in flight (produced but not committed, or not produced yet).
    ingest.child.kill("SIGKILL");
    await new Promise((resolve) => ingest.child.once("exit", resolve));
    ingest = await startIngest();
    const after = await readWhenRows(zoneTable, before + zones.length);
    const crashRows = after.rows.filter((r) => r.city === "crash");
    const distinct = new Set(crashRows.map((r) => identity(r, ["city", "zone_id"])));
    assert.equal(distinct.size, zones.length, "every pushed row is in the table");
    for (const row of crashRows) {
      assert.equal(row.load, String(Number(row.zone_id) / 4).replace(/^(\d+)$/, "$1.0"));
    }
  });
});

// Property: for random histories (ties on event time broken by epoch, HLC and region,
// duplicated versions, null values) and random entity rows, the training set equals a
// brute-force point-in-time lookup in TypeScript that orders versions with compareVersions,
// and no value from after a row's timestamp (or beyond maxAge) ever reaches that row.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { openEmbeddedEngine, type EmbeddedEngine } from "../../../shared/offline/duckdb.js";
import { parquetHistory } from "../../../shared/offline/history-source.js";
import { buildTrainingSet } from "../../../shared/offline/training-set.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";
import { compareVersions, encodeVersion, type Version } from "../../../shared/versions/index.js";
import {
  tempDir,
  writeHistory,
  writeParquet,
  type HistoryRow,
} from "../../support/offline-history.js";

const STATS_MAX_AGE_MS = 3_000;
const ZONE_MAX_AGE_MS = 5_000;

const registry = new FeatureRegistry({
  project: "pit",
  entities: [
    { name: "driver", joinKeys: { driver_id: "int64" } },
    { name: "zone", joinKeys: { zone_id: "string" } },
  ],
  views: [
    {
      name: "stats",
      version: "1.0.0",
      entities: ["driver"],
      features: { label: "string", trips: "int64", rate: "float64" },
      maxAgeMs: STATS_MAX_AGE_MS,
    },
    {
      name: "zone",
      version: "2.0.0",
      entities: ["zone"],
      features: { zlabel: "string", level: "int32" },
      maxAgeMs: ZONE_MAX_AGE_MS,
    },
  ],
});

const SECOND = 1_000;
const BASE_MS = 1_765_000_000_000;

/** Versions crowded onto few event times, so that epoch, HLC and region decide most ties. */
const versionArb: fc.Arbitrary<Version> = fc.record({
  eventTsMs: fc.integer({ min: 0, max: 8 }).map((s) => BASE_MS + s * SECOND),
  epoch: fc.integer({ min: 0, max: 2 }),
  hlc: fc.record({
    wallMs: fc.integer({ min: 0, max: 2 }).map((d) => BASE_MS + d),
    counter: fc.integer({ min: 0, max: 2 }),
  }),
  originRegion: fc.constantFrom("a", "b", "ab", "c"),
});

const nullable = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null, freq: 4 });

const statsRowsArb = fc.array(
  fc.record({
    driver: fc.integer({ min: 1, max: 4 }),
    version: versionArb,
    trips: nullable(fc.integer({ min: -5, max: 5 })),
    // -0 becomes 0 in the SQL literal that writes it.
    rate: nullable(fc.double({ min: -10, max: 10, noNaN: true }).map((x) => x + 0)),
  }),
  { maxLength: 40 },
);
const zoneRowsArb = fc.array(
  fc.record({
    zone: fc.constantFrom("z1", "z2", "z3"),
    version: versionArb,
    level: nullable(fc.integer({ min: 0, max: 9 })),
  }),
  { maxLength: 25 },
);
/** Entity rows near event times: exactly on one, a microsecond either side, and at the maxAge edges. */
const entityRowsArb = fc.array(
  fc.record({
    driver: fc.integer({ min: 1, max: 5 }),
    zone: fc.constantFrom("z1", "z2", "z3", "z4"),
    second: fc.integer({ min: -1, max: 15 }),
    offsetUs: fc.constantFrom(
      0,
      -1,
      1,
      999,
      1_000,
      STATS_MAX_AGE_MS * 1_000,
      STATS_MAX_AGE_MS * 1_000 + 1,
      ZONE_MAX_AGE_MS * 1_000,
      ZONE_MAX_AGE_MS * 1_000 + 1,
    ),
  }),
  { minLength: 1, maxLength: 30 },
);

/** At-least-once delivery: some versions appear again, identical. */
function withDuplicates<T>(rows: T[], picks: number[]): T[] {
  if (rows.length === 0) return rows;
  return [...rows, ...picks.map((p) => rows[p % rows.length]!)];
}

/** One version per (entity, version): the first generated values win, as a writer's would. */
function uniqueVersions(rows: HistoryRow[]): HistoryRow[] {
  const seen = new Map<string, HistoryRow>();
  for (const row of rows) {
    const id = `${JSON.stringify(row.keys)}|${encodeVersion(row.version)}`;
    if (!seen.has(id)) seen.set(id, row);
  }
  return [...seen.values()];
}

/** The brute force: the greatest version (compareVersions) at or before tsUs, if within maxAge. */
function pointInTime(
  history: readonly HistoryRow[],
  matches: (row: HistoryRow) => boolean,
  tsUs: number,
  maxAgeMs: number,
): HistoryRow | undefined {
  let best: HistoryRow | undefined;
  for (const row of history) {
    if (!matches(row) || row.version.eventTsMs * 1000 > tsUs) continue;
    if (!best || compareVersions(row.version, best.version) > 0) best = row;
  }
  if (!best || tsUs - best.version.eventTsMs * 1000 > maxAgeMs * 1000) return undefined;
  return best;
}

let engine: EmbeddedEngine;
const tmp = tempDir("strata-pit");
before(async () => {
  engine = await openEmbeddedEngine({ threads: 2 });
  await engine.connection.run("SET TimeZone = 'UTC'");
});
after(() => {
  engine.close();
  tmp.remove();
});

test("training sets equal a brute-force point-in-time lookup and never leak the future", async () => {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      statsRowsArb,
      zoneRowsArb,
      entityRowsArb,
      fc.array(fc.nat(), { maxLength: 10 }),
      async (statsGen, zoneGen, entityGen, dupPicks) => {
        run++;
        const stats = uniqueVersions(
          statsGen.map((r) => ({
            keys: { driver_id: r.driver },
            // Each version's label names it, so every output value can be traced to its version.
            values: {
              label: `${r.driver}/${encodeVersion(r.version)}`,
              trips: r.trips,
              rate: r.rate,
            },
            version: r.version,
          })),
        );
        const zone = uniqueVersions(
          zoneGen.map((r) => ({
            keys: { zone_id: r.zone },
            values: { zlabel: `${r.zone}/${encodeVersion(r.version)}`, level: r.level },
            version: r.version,
          })),
        );
        const statsFile = path.join(tmp.dir, `stats-${run}.parquet`);
        const zoneFile = path.join(tmp.dir, `zone-${run}.parquet`);
        const entityFile = path.join(tmp.dir, `entities-${run}.parquet`);
        const out = path.join(tmp.dir, `out-${run}.parquet`);
        await writeHistory(
          engine.connection,
          statsFile,
          [{ name: "driver_id", type: "BIGINT" }],
          [
            { name: "label", type: "VARCHAR" },
            { name: "trips", type: "BIGINT" },
            { name: "rate", type: "DOUBLE" },
          ],
          withDuplicates(stats, dupPicks),
        );
        await writeHistory(
          engine.connection,
          zoneFile,
          [{ name: "zone_id", type: "VARCHAR" }],
          [
            { name: "zlabel", type: "VARCHAR" },
            { name: "level", type: "INTEGER" },
          ],
          withDuplicates(zone, dupPicks),
        );
        const entities = entityGen.map((e, i) => ({
          id: i,
          driver_id: e.driver,
          zone_id: e.zone,
          tsUs: (BASE_MS + e.second * SECOND) * 1000 + e.offsetUs,
        }));
        await writeParquet(
          engine.connection,
          entityFile,
          [
            { name: "request_id", type: "INTEGER" },
            { name: "driver_id", type: "BIGINT" },
            { name: "zone_id", type: "VARCHAR" },
            { name: "event_timestamp", type: "TIMESTAMPTZ" },
          ],
          entities.map((e) => [e.id, e.driver_id, e.zone_id, e.tsUs]),
        );

        const result = await buildTrainingSet(
          {
            registry,
            features: ["stats:label", "stats:trips", "stats:rate", "zone@2:zlabel", "zone:level"],
            entities: entityFile,
            out,
            history: (view) => parquetHistory(view.name === "stats" ? statsFile : zoneFile),
          },
          { engine },
        );
        assert.equal(result.rows, entities.length);
        const read = await engine.connection.runAndReadAll(
          `SELECT request_id, driver_id, zone_id, epoch_us(event_timestamp) AS ts_us, label, trips, rate, zlabel, level FROM read_parquet('${out}')`,
        );
        const got = read.getRowObjectsJS();
        // File order is kept.
        assert.deepEqual(
          got.map((r) => r.request_id),
          entities.map((e) => e.id),
        );
        entities.forEach((e, i) => {
          const row = got[i]!;
          const s = pointInTime(
            stats,
            (h) => h.keys.driver_id === e.driver_id,
            e.tsUs,
            STATS_MAX_AGE_MS,
          );
          const z = pointInTime(zone, (h) => h.keys.zone_id === e.zone_id, e.tsUs, ZONE_MAX_AGE_MS);
          const expected = {
            label: s?.values.label ?? null,
            trips:
              s?.values.trips === undefined || s.values.trips === null
                ? null
                : BigInt(s.values.trips),
            rate: s?.values.rate ?? null,
            zlabel: z?.values.zlabel ?? null,
            level: z?.values.level ?? null,
          };
          assert.deepEqual(
            {
              label: row.label,
              trips: row.trips,
              rate: row.rate,
              zlabel: row.zlabel,
              level: row.level,
            },
            expected,
            `entity row ${i} (driver ${e.driver_id}, zone ${e.zone_id}, ts_us ${e.tsUs})`,
          );
          // No leak, checked on its own: a value present in a row comes from a version whose
          // event time is at or before the row's timestamp and within the view's maxAge.
          for (const [label, maxAgeMs] of [
            [row.label, STATS_MAX_AGE_MS],
            [row.zlabel, ZONE_MAX_AGE_MS],
          ] as const) {
            if (typeof label !== "string") {
              assert.equal(label, null);
              continue;
            }
            const eventMs = parseInt(label.split("/")[1]!.slice(0, 12), 16);
            assert.ok(eventMs * 1000 <= e.tsUs, `row ${i} got a value from the future: ${label}`);
            assert.ok(
              e.tsUs - eventMs * 1000 <= maxAgeMs * 1000,
              `row ${i} got a value beyond maxAge`,
            );
          }
        });
      },
    ),
    { numRuns: 150 },
  );
});

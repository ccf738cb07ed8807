import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BackfillLease } from "../../shared/backfill/index.js";
import { backfillTopic } from "../../shared/backfill/backfill-topic.js";
import { isStrataError } from "../../shared/errors.js";
import { backfillBed, statsCsv, type BackfillBed } from "../support/backfill.js";

/** Nothing of a refused backfill is left: no state, lease, writing generation, topic record or field. */
async function assertNothingWritten(bed: BackfillBed): Promise<void> {
  const client = bed.coordinatorStore.client;
  const project = bed.registry.project;
  assert.equal(await client.get(`fs:{${project}}:backfill:state:stats@1`), null, "no state");
  assert.equal(await client.get(`fs:{${project}}:backfill:lease:stats@1`), null, "no lease");
  assert.deepEqual(
    await client.hgetall(`fs:{${project}}:backfill:writing`),
    {},
    "no writing generations",
  );
  assert.equal(await client.get(`fs:{${project}}:backfill:epoch`), null, "no epoch allocated");
  const topics = await bed.fixture.admin.listTopics();
  if (topics.includes(backfillTopic(project))) {
    const offsets = await bed.fixture.admin.fetchTopicOffsets(backfillTopic(project));
    assert.ok(
      offsets.every((p) => p.high === p.low),
      "nothing produced",
    );
  }
  assert.equal(await client.exists(`fs:{${project}:driver:i1}`), 0, "no entity row");
}

function refusedWith(code: string) {
  return (error: unknown) => {
    assert.ok(isStrataError(error), String(error));
    assert.equal(error.code, code, error.message);
    return true;
  };
}

describe("backfill refusals (standalone)", () => {
  let bed: BackfillBed;
  const t = Date.now() - 60_000;
  before(async () => {
    bed = await backfillBed("standalone", "bfr");
  });
  after(async () => {
    await bed.close();
  });

  test("an unknown view is refused", () => {
    assert.throws(() => bed.coordinator({}, "nope@1"), refusedWith("STRATA_E_UNKNOWN_VIEW"));
    assert.throws(() => bed.coordinator({}, "stats@7"), refusedWith("STRATA_E_UNKNOWN_VIEW"));
  });

  test("a schema mismatch is refused before anything is written", async () => {
    const csv = bed.writeCsv("schema.csv", ["driver_id,rate,event_timestamp", `1,0.5,${t}`]);
    await assert.rejects(
      bed.coordinator().start({ source: { kind: "file", path: csv } }),
      refusedWith("STRATA_E_BACKFILL_SCHEMA"),
    );
    const typed = bed.writeCsv("types.csv", [
      "driver_id,rate,trips,label,event_timestamp",
      `1,0.5,many,x,${t}`,
    ]);
    await assert.rejects(
      bed.coordinator().start({ source: { kind: "file", path: typed } }),
      refusedWith("STRATA_E_BACKFILL_SCHEMA"),
    );
    await assertNothingWritten(bed);
  });

  test("rows with event times in the future are refused", async () => {
    const csv = bed.writeCsv(
      "future.csv",
      statsCsv([
        { driver: 1, rate: 1, eventTsMs: t },
        { driver: 2, rate: 1, eventTsMs: Date.now() + 3_600_000 },
      ]),
    );
    await assert.rejects(
      bed.coordinator().start({ source: { kind: "file", path: csv } }),
      refusedWith("STRATA_E_EVENT_TIME_IN_FUTURE"),
    );
    await assertNothingWritten(bed);
  });

  test("an empty source and an unreadable one are refused", async () => {
    const csv = bed.writeCsv("empty.csv", ["driver_id,rate,trips,label,event_timestamp"]);
    await assert.rejects(
      bed.coordinator().start({ source: { kind: "file", path: csv } }),
      (e: unknown) => {
        assert.ok(isStrataError(e));
        // DuckDB cannot sniff types from a header alone: either refusal leaves nothing behind.
        assert.ok(
          ["STRATA_E_BACKFILL_EMPTY", "STRATA_E_BACKFILL_SCHEMA"].includes(e.code),
          e.message,
        );
        return true;
      },
    );
    await assert.rejects(
      bed.coordinator().start({
        source: {
          kind: "sql",
          sql: "SELECT 1::BIGINT AS driver_id, 0.5 AS rate, 1::BIGINT AS trips, 'x' AS label, 0::BIGINT AS event_timestamp WHERE false",
        },
      }),
      refusedWith("STRATA_E_BACKFILL_EMPTY"),
    );
    await assert.rejects(
      bed.coordinator().start({ source: { kind: "file", path: `${bed.dir}/missing.parquet` } }),
      refusedWith("STRATA_E_BACKFILL_SOURCE"),
    );
    await assertNothingWritten(bed);
  });

  test("a row without its join key is refused with its row number", async () => {
    const csv = bed.writeCsv("bad-row.csv", [
      "driver_id,rate,trips,label,event_timestamp",
      `1,0.5,1,x,${t}`,
      `,0.5,2,y,${t}`,
    ]);
    await assert.rejects(
      bed.coordinator().start({ source: { kind: "file", path: csv } }),
      (e: unknown) => {
        assert.ok(isStrataError(e));
        assert.equal(e.code, "STRATA_E_BATCH_REJECTED", e.message);
        const rejected = e.details.rejected as { index: number; code: string }[];
        assert.deepEqual(
          rejected.map((r) => [r.index, r.code]),
          [[1, "STRATA_E_MISSING_JOIN_KEY"]],
        );
        return true;
      },
    );
    await assertNothingWritten(bed);
  });

  test("a second coordinator for the same view is refused while the lease is held", async () => {
    const held = await BackfillLease.acquire(
      bed.coordinatorStore.client,
      bed.registry.project,
      "stats@1",
      { ttlMs: 10_000 },
    );
    try {
      const csv = bed.writeCsv("ok.csv", statsCsv([{ driver: 1, rate: 1, eventTsMs: t }]));
      await assert.rejects(
        bed.coordinator().start({ source: { kind: "file", path: csv } }),
        refusedWith("STRATA_E_BACKFILL_LEASE_HELD"),
      );
      await assert.rejects(
        bed
          .coordinator()
          .status()
          .then(() => bed.coordinator().advance()),
        refusedWith("STRATA_E_BACKFILL_LEASE_HELD"),
      );
      assert.equal(
        await bed.coordinatorStore.client.get(
          `fs:{${bed.registry.project}}:backfill:state:stats@1`,
        ),
        null,
      );
    } finally {
      await held.release();
    }
  });
});

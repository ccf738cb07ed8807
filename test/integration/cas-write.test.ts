// lua/cas-write.lua on the real Redis servers: corrupt stored state, feature subsets, and
// what counts as a concurrent cross-region write.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { isStrataError } from "../../shared/errors.js";
import type { WriteRow } from "../../shared/online-store/index.js";
import { prepareWrites } from "../../shared/online-store/write-path.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import {
  areConcurrent,
  compareVersions,
  encodeClockVector,
  encodeVersion,
  type ClockVector,
  type Version,
} from "../../shared/versions/index.js";
import { TOPOLOGIES } from "../support/servers.js";
import { openStore, testRepo, uniqueProject, type OpenedStore } from "../support/store.js";

const T0 = 1_700_000_000_000;
const REGIONS = ["ap-south-1", "eu-west-1", "us-east-1"] as const;

function version(eventMs: number, wallMs: number, originRegion: string): Version {
  return {
    eventTsMs: T0 + eventMs,
    epoch: 0,
    hlc: { wallMs: T0 + wallMs, counter: 0 },
    originRegion,
  };
}

function statsRow(driver: number, rate: number, v: Version, clock?: ClockVector): WriteRow {
  return {
    view: "stats@1",
    entity: { driver_id: driver },
    values: { rate, trips: Math.round(rate * 10), label: `r${rate}` },
    version: v,
    ...(clock ? { clock } : {}),
  };
}

for (const topology of TOPOLOGIES) {
  describe(`the CAS script (${topology})`, () => {
    const registry = new FeatureRegistry(testRepo(uniqueProject("cas")));
    const key = (driver: number) => `fs:{${registry.project}:driver:i${driver}}`;
    let opened: OpenedStore;

    before(async () => {
      opened = await openStore(topology, registry, { hotCache: false });
    });
    after(() => opened.close());

    it("leaves a row whose stored version or clock is corrupt, reports it, and applies the rest of the call", async () => {
      const { store, client } = opened;
      const drivers = [10, 11, 12, 13, 14];
      await store.write(drivers.map((d) => statsRow(d, 1, version(0, 0, "eu-west-1"))));
      // Corrupt the middle rows by hand, as an operator's HSET or another program might.
      await client.hset(key(12), "stats@1#0:_v", "not-a-version");
      await client.hset(key(13), "stats@1#0:_cv", "eu-west-1:zz");
      const before12 = await client.hgetall(key(12));
      const before13 = await client.hgetall(key(13));

      // One call on a standalone server (consecutive rows share a call): rows before and after
      // the corrupt ones. The script used to raise at the first corrupt row, leaving the rows
      // before it written and failing the whole batch with STRATA_E_SCRIPT_FAILED.
      const report = await store.write(
        drivers.map((d) => statsRow(d, 2, version(5, 5, "eu-west-1"))),
      );
      assert.deepEqual(
        report.rows.map((r) => r.outcome),
        ["applied", "applied", "corrupt", "corrupt", "applied"],
      );
      assert.equal(report.corrupt, 2);
      assert.deepEqual(await client.hgetall(key(12)), before12, "the corrupt row is untouched");
      assert.deepEqual(await client.hgetall(key(13)), before13, "the corrupt row is untouched");
      const read = await store.read(
        drivers.map((driver_id) => ({ driver_id })),
        ["stats@1:rate"],
      );
      assert.deepEqual(
        [0, 1, 4].map((r) => read.rows[r]!.values[0]),
        [2, 2, 2],
      );
      assert.equal(store.stats().corrupt, 2);
    });

    it("refuses a malformed incoming version as a whole call, writing nothing", async () => {
      const { store, client } = opened;
      const [good, bad] = prepareWrites(registry, [
        statsRow(20, 1, version(0, 0, "eu-west-1")),
        statsRow(21, 1, version(0, 0, "eu-west-1")),
      ]);
      await assert.rejects(
        store.writePrepared([
          good!,
          { ...bad!, encodedVersion: "zz" + bad!.encodedVersion.slice(2) },
        ]),
        (e: unknown) => isStrataError(e, "STRATA_E_SCRIPT_FAILED"),
      );
      if (topology === "standalone") assert.equal(await client.exists(key(20)), 0);
    });

    it("writes only the features a row carries and leaves the others as stored", async () => {
      const { store } = opened;
      await store.write([statsRow(30, 1, version(0, 0, "eu-west-1"))]);
      const [full] = prepareWrites(registry, [statsRow(30, 7, version(5, 5, "eu-west-1"))]);
      // trips only (position 1 of rate, trips, label)
      const report = await store.writePrepared([{ ...full!, features: [1], values: ["70"] }]);
      assert.equal(report.applied, 1);
      const read = await store.read(
        [{ driver_id: 30 }],
        ["stats@1:rate", "stats@1:trips", "stats@1:label"],
      );
      assert.deepEqual(read.rows[0]!.values, [1, 70, "r1"]);
      assert.equal(read.rows[0]!.eventTimestamps[0], T0 + 5);
    });

    it("counts as concurrent exactly the writes that did not know of the stored winner (three regions)", async () => {
      const { store } = opened;
      const [ap, eu, us] = REGIONS;
      const outcome = async (driver: number, rate: number, v: Version, clock: ClockVector) => {
        const report = await store.write([statsRow(driver, rate, v, clock)]);
        return [report.rows[0]!.outcome, report.rows[0]!.concurrent];
      };
      const hlc = (ms: number) => ({ wallMs: T0 + ms, counter: 0 });

      // A sequential chain: each region writes after having seen the write before it.
      assert.deepEqual(await outcome(40, 1, version(10, 10, eu), { [eu]: hlc(10) }), [
        "applied",
        false,
      ]);
      assert.deepEqual(
        await outcome(40, 2, version(20, 20, us), { [eu]: hlc(10), [us]: hlc(20) }),
        ["applied", false],
      );
      assert.deepEqual(
        await outcome(40, 3, version(30, 30, ap), { [eu]: hlc(10), [us]: hlc(20), [ap]: hlc(30) }),
        ["applied", false],
      );
      // Back to the first region, which had seen only the last write: still a chain. (With the
      // merged vector the row used to keep, eu's write lacked nothing it had to know, yet the
      // stored vector was "ahead" in us-east-1, so this counted as concurrent.)
      assert.deepEqual(
        await outcome(40, 4, version(40, 40, eu), { [eu]: hlc(40), [ap]: hlc(30) }),
        ["applied", false],
      );

      // Concurrent: us-east-1 and ap-south-1 write the same key, each knowing eu's write only.
      const seenEu = { [eu]: hlc(40) };
      assert.deepEqual(await outcome(40, 5, version(50, 50, us), { ...seenEu, [us]: hlc(50) }), [
        "applied",
        false,
      ]);
      assert.deepEqual(await outcome(40, 6, version(51, 51, ap), { ...seenEu, [ap]: hlc(51) }), [
        "applied",
        true,
      ]);
      // Late delivery of a write the winner knew of: stale, not concurrent.
      assert.deepEqual(await outcome(40, 7, version(39, 39, eu), { [eu]: hlc(39) }), [
        "stale",
        false,
      ]);
      // One it did not know of (ap's winner had seen nothing of us-east-1): concurrent.
      assert.deepEqual(await outcome(40, 8, version(45, 45, us), { [us]: hlc(45) }), [
        "stale",
        true,
      ]);
    });

    it("converges whatever the delivery order, and flags a write concurrent exactly when neither it nor the stored winner knew of the other", async () => {
      const { store, client } = opened;
      const regionArb = fc.constantFrom(...REGIONS);
      const writeArb = fc.record({
        event: fc.nat({ max: 3 }),
        wall: fc.nat({ max: 50 }),
        region: regionArb,
        seen: fc.dictionary(regionArb, fc.nat({ max: 50 }), { maxKeys: 3 }),
      });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(writeArb, {
            minLength: 1,
            maxLength: 8,
            selector: (w) => `${w.event}/${w.wall}/${w.region}`,
          }),
          fc.infiniteStream(fc.nat()),
          async (specs, randoms) => {
            const writes = specs.map((s, n) => {
              const clock: ClockVector = {};
              for (const [region, ms] of Object.entries(s.seen))
                clock[region] = { wallMs: T0 + ms, counter: 0 };
              return statsRow(0, n, version(s.event, s.wall, s.region), clock);
            });
            // Two delivery orders, each to its own key.
            const orders = [writes, shuffle(writes, randoms)];
            const finals: Record<string, string>[] = [];
            for (const order of orders) {
              const driver = 100_000 + run++;
              const rows = order.map((w) => ({ ...w, entity: { driver_id: driver } }));
              const flags: boolean[] = [];
              for (const row of rows) flags.push((await store.write([row])).rows[0]!.concurrent);
              // The model: each write against the winner it met.
              let winner: { version: Version; clock: ClockVector } | undefined;
              const expected = rows.map((row) => {
                const clock = ownClock(row);
                const concurrent =
                  winner !== undefined &&
                  compareVersions(row.version, winner.version) !== 0 &&
                  areConcurrent(
                    { ...row.version, clock },
                    { ...winner.version, clock: winner.clock },
                  );
                if (!winner || compareVersions(row.version, winner.version) > 0) {
                  winner = { version: row.version, clock };
                }
                return concurrent;
              });
              assert.deepEqual(flags, expected);
              const stored = await client.hgetall(key(driver));
              assert.equal(stored["stats@1#0:_v"], encodeVersion(winner!.version));
              assert.equal(stored["stats@1#0:_cv"], encodeClockVector(winner!.clock));
              finals.push(stored);
            }
            assert.deepEqual(finals[1], finals[0]);
          },
        ),
        { numRuns: 40 },
      );
    });
  });
}

/** The clock the store sends for a row: its own region raised to its own HLC. */
function ownClock(row: WriteRow): ClockVector {
  const clock = { ...(row.clock ?? {}) };
  const own = clock[row.version.originRegion];
  const hlc = row.version.hlc;
  if (!own || own.wallMs < hlc.wallMs || (own.wallMs === hlc.wallMs && own.counter < hlc.counter)) {
    clock[row.version.originRegion] = hlc;
  }
  return clock;
}

function shuffle<T>(items: readonly T[], randoms: fc.Stream<number>): T[] {
  const out = [...items];
  const it = randoms[Symbol.iterator]();
  for (let i = out.length - 1; i > 0; i--) {
    const j = (it.next().value as number) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

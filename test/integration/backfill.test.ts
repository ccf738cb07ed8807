import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { HybridLogicalClock } from "../../shared/versions/index.js";
import type { WriteRow } from "../../shared/online-store/index.js";
import { backfillBed, REGION, statsCsv, type BackfillBed } from "../support/backfill.js";
import { openStore, sleep } from "../support/store.js";
import { TOPOLOGIES } from "../support/servers.js";

const clock = new HybridLogicalClock();
const row = (driver: number, rate: number, eventTsMs: number): WriteRow => ({
  view: "stats@1",
  entity: { driver_id: driver },
  values: { rate, trips: driver, label: `d${driver}` },
  version: { eventTsMs, epoch: 0, hlc: clock.now(), originRegion: REGION },
});

for (const topology of TOPOLOGIES) {
  describe(`backfill on ${topology}`, () => {
    let bed: BackfillBed;
    before(async () => {
      bed = await backfillBed(topology);
    });
    after(async () => {
      await bed.close();
    });

    test("live writes during the backfill survive the flip; a correction beats a live value of its event time, never a newer one; readers never see a mix", async () => {
      const N = 200;
      const t0 = Date.now() - 3_600_000;
      const writer = await bed.fixture.openWriter();
      const consumerStore = await openStore(topology, bed.registry, { hotCache: false });
      await bed.fixture.startConsumer(consumerStore.store, REGION);
      const reader = await openStore(topology, bed.registry);
      try {
        // Before: every driver at rate 1 (event t0); driver 1 newer (t0 + 1 s) at rate 5.
        await writer.write(
          [...Array.from({ length: N }, (_, i) => row(i + 1, 1, t0)), row(1, 5, t0 + 1_000)],
          { wait: "acked" },
        );
        await bed.fixture.waitCaughtUp(REGION, 20_000);
        const csv = bed.writeCsv(
          "fix.csv",
          statsCsv(
            Array.from({ length: N }, (_, i) => ({ driver: i + 1, rate: 2, eventTsMs: t0 })),
          ),
        );
        const coordinator = bed.coordinator();
        const started = await coordinator.start({ source: { kind: "file", path: csv } });
        assert.equal(started.stage, "loading");
        assert.equal(started.manifest.rows, N);

        // Readers of drivers 3..N throughout: each answer all-old (1) or all-new (2).
        const watched = Array.from({ length: N - 2 }, (_, i) => ({ driver_id: i + 3 }));
        let reading = true;
        const seen = { old: 0, new: 0, mixed: 0 };
        const readers = (async () => {
          while (reading) {
            const { rows } = await reader.store.read(watched, ["stats@1:rate"]);
            const rates = new Set(rows.map((r) => r.values[0]));
            if (rates.size > 1) seen.mixed++;
            else if (rates.has(1)) seen.old++;
            else if (rates.has(2)) seen.new++;
            await sleep(2);
          }
        })();

        // Live writes after the start (past the captured offsets): only the dual write carries them.
        await writer.write(
          [
            ...Array.from({ length: 20 }, (_, i) => row(N + 1 + i, 7, Date.now())),
            row(2, 9, t0 + 5_000),
          ],
          { wait: "acked" },
        );
        await bed.fixture.waitCaughtUp(REGION, 20_000);
        const loaded = await coordinator.advance();
        assert.equal(loaded.stage, "loaded");
        const verified = await coordinator.verify();
        assert.equal(verified.stage, "verified");
        await writer.write([row(N + 50, 8, Date.now())], { wait: "acked" });
        await bed.fixture.waitCaughtUp(REGION, 20_000);
        const flipped = await coordinator.flip();
        assert.equal(flipped.stage, "flipped");
        await sleep(300);
        reading = false;
        await readers;
        assert.equal(seen.mixed, 0, `readers saw a mix of generations: ${JSON.stringify(seen)}`);
        assert.ok(seen.new > 0, `readers saw the new generation: ${JSON.stringify(seen)}`);

        const drivers = [1, 2, 3, N, ...Array.from({ length: 20 }, (_, i) => N + 1 + i), N + 50];
        const { rows } = await reader.store.read(
          drivers.map((d) => ({ driver_id: d })),
          ["stats@1:rate"],
        );
        const rate = (d: number) => rows[drivers.indexOf(d)]!.values[0];
        assert.equal(rate(1), 5, "a newer live value beats the backfill row");
        assert.equal(rate(2), 9, "a live write newer than the backfill, made during it, wins");
        assert.equal(rate(3), 2, "the correction beats the live value of the same event time");
        assert.equal(rate(N), 2);
        for (let i = 0; i < 20; i++)
          assert.equal(rate(N + 1 + i), 7, `live write ${N + 1 + i} made during the backfill`);
        assert.equal(rate(N + 50), 8, "a live write between verify and flip");
        assert.equal(await reader.store.activeGeneration("stats@1"), flipped.newGeneration);

        const collected = await coordinator.gc({ force: true });
        assert.equal(collected.state.stage, "collected");
        const hash = await bed.coordinatorStore.client.hgetall(
          `fs:{${bed.registry.project}:driver:i3}`,
        );
        assert.deepEqual(
          Object.keys(hash).filter((f) => f.startsWith(`stats@1#${flipped.oldGeneration}:`)),
          [],
          "gc deleted the old generation",
        );
      } finally {
        await reader.close();
        await consumerStore.close();
      }
    });
  });
}

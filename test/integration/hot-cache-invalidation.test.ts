import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { FeatureRegistry } from "../../shared/registry/index.js";
import type { WriteRow } from "../../shared/online-store/index.js";
import { prepareWrites } from "../../shared/online-store/write-path.js";
import { HybridLogicalClock } from "../../shared/versions/index.js";
import { TOPOLOGIES } from "../support/servers.js";
import { openStore, testRepo, uniqueProject, waitFor, type OpenedStore } from "../support/store.js";

const ROUNDS = 50;
/** Far below the safety TTL (60 s): a value seen within this came through an invalidation. */
const BOUND_MS = 2_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

for (const topology of TOPOLOGIES) {
  describe(`hot cache invalidation through Redis client tracking (${topology})`, () => {
    let registry: FeatureRegistry;
    let reader: OpenedStore;
    let writer: OpenedStore;
    const clock = new HybridLogicalClock();
    const row = (driver_id: number, rate: number): WriteRow => ({
      view: "stats@1",
      entity: { driver_id },
      values: { rate, trips: 1, label: "x" },
      version: { eventTsMs: Date.now(), epoch: 0, hlc: clock.now(), originRegion: "us-east-1" },
    });
    const rateOf = async (driver_id: number) =>
      (await reader.store.read([{ driver_id }], ["stats@1:rate"])).rows[0]!.values[0];

    before(async () => {
      registry = new FeatureRegistry(testRepo(uniqueProject("inv")));
      reader = await openStore(topology, registry);
      writer = await openStore(topology, registry, { hotCache: false });
    });
    after(async () => {
      await reader.close();
      await writer.close();
    });

    it("serves a cached value from memory, and a new value once another connection writes it", async (t) => {
      const lags: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        const id = 100 + (i % 10);
        await writer.store.write([row(id, i)]);
        await waitFor(async () => (await rateOf(id)) === i, BOUND_MS, "first read");
        const hitsBefore = reader.store.stats().cache!.hits;
        assert.equal(await rateOf(id), i);
        assert.equal(
          reader.store.stats().cache!.hits,
          hitsBefore + 1,
          "the second read is a hot-cache hit",
        );

        await writer.store.write([row(id, i + 0.5)]);
        const acked = performance.now();
        await waitFor(
          async () => (await rateOf(id)) === i + 0.5,
          BOUND_MS,
          `round ${i}: new value`,
        );
        lags.push(performance.now() - acked);
      }
      lags.sort((a, b) => a - b);
      t.diagnostic(
        `invalidation lag after the write's ack, ${ROUNDS} rounds: p50 ${percentile(lags, 0.5).toFixed(3)} ms, p99 ${percentile(lags, 0.99).toFixed(3)} ms, max ${lags.at(-1)!.toFixed(3)} ms`,
      );
      assert.ok(reader.store.stats().cache!.invalidations > 0);
    });

    it("hears of another connection's write after its own connection changed the key", async () => {
      // Any command of the tracked connection that modifies a key drops the key from Redis'
      // tracking table; the server must still say so (no NOLOOP), or the next change by
      // someone else goes unheard until the safety TTL. Here the command is a plain HSET of
      // a field reads do not use, sent on the store's own client.
      const id = 777;
      await writer.store.write([row(id, 1)]);
      await waitFor(async () => (await rateOf(id)) === 1, BOUND_MS, "first read");
      const hitsBefore = reader.store.stats().cache!.hits;
      assert.equal(await rateOf(id), 1);
      assert.equal(reader.store.stats().cache!.hits, hitsBefore + 1, "cached");
      const key = prepareWrites(registry, [row(id, 0)])[0]!.redisKey;
      await reader.client.hset(key, "unrelated", "1");
      await waitFor(async () => (await rateOf(id)) === 1, BOUND_MS, "still 1");
      await writer.store.write([row(id, 2)]);
      await waitFor(async () => (await rateOf(id)) === 2, BOUND_MS, "another connection's write");
    });

    it("flushes when the invalidation connection dies, stays correct, and re-arms", async () => {
      const id = 555;
      await writer.store.write([row(id, 1)]);
      await waitFor(async () => (await rateOf(id)) === 1, BOUND_MS, "warm-up");
      assert.ok(reader.store.stats().cache!.size > 0);
      const flushesBefore = reader.store.stats().cache!.flushes;

      // Kill every subscriber connection from the server side, as a network cut would.
      for (const [node, subscriberId] of reader.store.invalidationSubscriberIds()) {
        assert.ok(subscriberId !== undefined);
        const [host, port] = node.split(":");
        const admin = new Redis({ host, port: Number(port) });
        await admin.client("KILL", "ID", String(subscriberId));
        admin.disconnect();
      }
      await waitFor(() => reader.store.stats().cache!.flushes > flushesBefore, BOUND_MS, "flush");
      assert.equal(reader.store.stats().cache!.size, 0);

      // Whatever happens while it is down, reads stay correct.
      await writer.store.write([row(id, 2)]);
      assert.equal(await rateOf(id), 2);

      // It comes back on its own, and invalidation works again.
      await waitFor(() => reader.store.invalidationArmed, 10_000, "re-arm");
      assert.equal(await rateOf(id), 2);
      assert.equal(await rateOf(id), 2);
      await writer.store.write([row(id, 3)]);
      await waitFor(async () => (await rateOf(id)) === 3, BOUND_MS, "invalidation after re-arm");
    });
  });
}

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Cluster, Redis } from "ioredis";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { isStrataError } from "../../shared/errors.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { OnlineStore, type WriteRow } from "../../shared/online-store/index.js";
import { HybridLogicalClock, type Version } from "../../shared/versions/index.js";
import { TOPOLOGIES } from "../support/servers.js";
import { openStore, testRepo, uniqueProject, type OpenedStore } from "../support/store.js";

const NOW = 1_800_000_000_000;

for (const topology of TOPOLOGIES) {
  describe(`online store reads and writes (${topology})`, () => {
    let registry: FeatureRegistry;
    let opened: OpenedStore;
    const clock = new HybridLogicalClock();
    const version = (eventTsMs: number, originRegion = "us-east-1"): Version => ({
      eventTsMs,
      epoch: 0,
      hlc: clock.now(),
      originRegion,
    });
    const statsRow = (
      driver_id: number,
      rate: number | null,
      eventTsMs = NOW - 1_000,
    ): WriteRow => ({
      view: "stats@1",
      entity: { driver_id },
      values: { rate, trips: driver_id, label: `d${driver_id}` },
      version: version(eventTsMs),
    });

    before(async () => {
      registry = new FeatureRegistry(testRepo(uniqueProject("rw")));
      opened = await openStore(topology, registry, { now: () => NOW });
    });
    after(() => opened.close());

    it("answers PRESENT, NULL_VALUE, NOT_FOUND and OUTSIDE_MAX_AGE per value", async () => {
      const { store } = opened;
      await store.write([statsRow(1, 0.5), statsRow(2, null), statsRow(3, 0.7, NOW - 120_000)]);
      const result = await store.read(
        [1, 2, 3, 4].map((driver_id) => ({ driver_id })),
        ["stats@1:rate", "stats@1:label"],
      );
      assert.deepEqual(
        result.rows.map((r) => r.statuses),
        [
          ["PRESENT", "PRESENT"],
          ["NULL_VALUE", "PRESENT"],
          ["OUTSIDE_MAX_AGE", "OUTSIDE_MAX_AGE"],
          ["NOT_FOUND", "NOT_FOUND"],
        ],
      );
      assert.deepEqual(result.rows[0]!.values, [0.5, "d1"]);
      assert.deepEqual(
        result.rows[2]!.values,
        [0.7, "d3"],
        "a stale value is flagged, still returned",
      );
      assert.deepEqual(result.rows[0]!.eventTimestamps, [NOW - 1_000, NOW - 1_000]);
      assert.deepEqual(result.rows[3]!.eventTimestamps, [null, null]);
    });

    it("keeps two majors of a view side by side; view:feature reads the latest", async () => {
      const { store } = opened;
      await store.write([
        statsRow(10, 0.1),
        {
          view: "stats",
          entity: { driver_id: 10 },
          values: { rate: 0.9, trips: 7, label: "v2", tags: ["a", "b"] },
          version: version(NOW - 500),
        },
      ]);
      const result = await store.read(
        [{ driver_id: 10 }],
        ["stats@1:rate", "stats:rate", "stats@2:tags"],
      );
      assert.deepEqual(result.rows[0]!.values, [0.1, 0.9, ["a", "b"]]);
      const service = await store.readService([{ driver_id: 10 }], "model_a");
      assert.deepEqual(service.rows[0]!.values, [0.1, 10]);
    });

    it("stores every type and multi-key entities, whatever characters the keys hold", async () => {
      const { store } = opened;
      const rider = { rider_id: "r:{1}\\é😀", city: "" };
      const blob = Buffer.from([0, 255, 10, 13]);
      await store.write([
        {
          view: "rider_profile",
          entity: rider,
          values: { score: 1.5, vip: true, blob },
          version: version(NOW - 10),
        },
      ]);
      const result = await store.read(
        [rider, { rider_id: "r:{1}\\é😀", city: "x" }],
        ["rider_profile:score", "rider_profile:vip", "rider_profile:blob"],
      );
      assert.deepEqual(result.rows[0]!.values, [1.5, true, blob]);
      assert.deepEqual(result.rows[1]!.statuses, ["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
    });

    it("reads a batch of entities spread over every node in one call", async () => {
      const { store } = opened;
      const ids = Array.from({ length: 200 }, (_, i) => 1_000 + i);
      await store.write(ids.map((id) => statsRow(id, id / 10)));
      const result = await store.read(
        ids.map((driver_id) => ({ driver_id })),
        ["stats@1:rate", "stats@1:trips"],
      );
      assert.deepEqual(
        result.rows.map((r) => r.values),
        ids.map((id) => [id / 10, id]),
      );
    });

    it("rejects a batch with bad rows before writing anything, naming each bad row", async () => {
      const { store, client } = opened;
      const good = statsRow(500, 0.5);
      const rows: WriteRow[] = [
        good,
        { ...statsRow(501, 0.5), values: { rate: "fast", trips: 1, label: "x" } },
        { ...statsRow(502, 0.5), values: { rate: 1, trips: 1, label: "x", colour: "red" } },
        { ...statsRow(503, 0.5), entity: { driverId: 503 } },
        {
          ...statsRow(504, 0.5),
          version: { eventTsMs: -5, epoch: 0, hlc: { wallMs: 0, counter: 0 }, originRegion: "us" },
        },
        { ...statsRow(505, 0.5), values: { rate: 1, trips: 1 } },
      ];
      await assert.rejects(store.write(rows), (error: unknown) => {
        assert.ok(isStrataError(error, "STRATA_E_BATCH_REJECTED"));
        assert.equal(error.status, 400);
        assert.deepEqual(
          (error.details.rejected as { index: number; code: string }[]).map((r) => [
            r.index,
            r.code,
          ]),
          [
            [1, "STRATA_E_VALUE_TYPE"],
            [2, "STRATA_E_UNKNOWN_FEATURE"],
            [3, "STRATA_E_MISSING_JOIN_KEY"],
            [4, "STRATA_E_BAD_WRITE_VERSION"],
            [5, "STRATA_E_MISSING_FEATURE_VALUE"],
          ],
        );
        assert.equal(error.details.notWritten, 1);
        return true;
      });
      const project = registry.project;
      const keys = [500, 501, 502, 504, 505].map((id) => `fs:{${project}:driver:i${id}}`);
      const exists = await Promise.all(keys.map((key) => client.exists(key)));
      assert.deepEqual(exists, [0, 0, 0, 0, 0], "nothing of the batch was written");
    });

    it("rejects an unknown view with its own code", async () => {
      await assert.rejects(
        opened.store.write([{ ...statsRow(1, 1), view: "ghost" }]),
        (error: unknown) => {
          assert.ok(isStrataError(error, "STRATA_E_BATCH_REJECTED"));
          assert.equal(
            (error.details.rejected as { code: string }[])[0]!.code,
            "STRATA_E_UNKNOWN_VIEW",
          );
          return true;
        },
      );
    });

    it("refuses a client with a key prefix: the store's keys, slots and scripts name whole keys", async () => {
      const endpoints = resolveEndpoints();
      const prefixed =
        topology === "standalone"
          ? new Redis(endpoints.redis.address, { keyPrefix: "other:", lazyConnect: true })
          : new Cluster(endpoints.cluster.address, { keyPrefix: "other:", lazyConnect: true });
      try {
        await assert.rejects(OnlineStore.open({ client: prefixed, registry }), (error: unknown) =>
          isStrataError(error, "STRATA_E_BAD_CONFIG"),
        );
      } finally {
        prefixed.disconnect();
      }
    });

    it("reports stale writes and concurrent cross-region writes", async () => {
      const { store } = opened;
      /** Writes driver 700 at (event ms, HLC ms, region), optionally with what it had seen. */
      const outcome = async (
        rate: number,
        eventTsMs: number,
        wallMs: number,
        originRegion: string,
        clock?: WriteRow["clock"],
      ) => {
        const report = await store.write([
          {
            ...statsRow(700, rate),
            version: { eventTsMs, epoch: 0, hlc: { wallMs, counter: 0 }, originRegion },
            ...(clock ? { clock } : {}),
          },
        ]);
        return report.rows.map((r) => [r.outcome, r.concurrent]);
      };
      const seenBoth = {
        "us-east-1": { wallMs: 7, counter: 0 },
        "eu-west-1": { wallMs: 6, counter: 0 },
      };

      assert.deepEqual(await outcome(1, NOW - 100, 5, "us-east-1"), [["applied", false]]);
      // Older event from a region that never saw the first write: stale, and concurrent.
      assert.deepEqual(await outcome(2, NOW - 200, 6, "eu-west-1"), [["stale", true]]);
      // A write that had seen both regions: applied, not concurrent.
      assert.deepEqual(await outcome(3, NOW - 50, 7, "us-east-1", seenBoth), [["applied", false]]);
      // The exact same write again: a duplicate, stale and not concurrent.
      assert.deepEqual(await outcome(3, NOW - 50, 7, "us-east-1", seenBoth), [["stale", false]]);
      assert.equal(
        (await store.read([{ driver_id: 700 }], ["stats@1:rate"])).rows[0]!.values[0],
        3,
      );
      assert.ok(store.stats().concurrent >= 1);
    });

    it("serves one whole generation: a backfill's new generation shows only after the pointer flip", async () => {
      const { store } = opened;
      const ids = [900, 901, 902];
      const entities = ids.map((driver_id) => ({ driver_id }));
      const rates = async (s: typeof store) =>
        (await s.read(entities, ["stats@1:rate"])).rows.map((r) => r.values[0]);
      await store.write(ids.map((id) => statsRow(id, 1)));
      // The "backfill" writes generation 1 of stats@1 while readers keep reading generation 0.
      await store.write(
        ids.map((id) => ({ ...statsRow(id, 2), version: { ...version(NOW - 1_000), epoch: 1 } })),
        { generation: 1 },
      );
      assert.deepEqual(await rates(store), [1, 1, 1]);
      // Another serving process, its cache warm with generation 0.
      const reader = await openStore(topology, registry, { now: () => NOW });
      assert.deepEqual(await rates(reader.store), [1, 1, 1]);

      await store.activateGeneration("stats@1", 1);
      assert.deepEqual(await rates(store), [2, 2, 2], "the process that flipped sees it at once");
      // The other process learns of it through the pointer key's invalidation, never seeing a mix.
      const deadline = Date.now() + 5_000;
      let seen = await rates(reader.store);
      while (seen[0] !== 2 && Date.now() < deadline) {
        assert.ok(
          seen.every((v) => v === seen[0]),
          `a mix of generations: ${seen.join(",")}`,
        );
        await new Promise((resolve) => setImmediate(resolve));
        seen = await rates(reader.store);
      }
      assert.deepEqual(seen, [2, 2, 2]);
      assert.equal(await reader.store.activeGeneration("stats@1"), 1);
      await reader.close();
      await store.activateGeneration("stats@1", 0);
    });
  });
}

// Deletes (CDC tombstones) in the online store on the real Redis servers: the CAS script stores
// the delete's version and removes the view's features, so reads say NOT_FOUND, an older write
// never brings a value back, and a newer one does; through the hot cache too.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { WriteRow } from "../../shared/online-store/index.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import type { Version } from "../../shared/versions/index.js";
import { TOPOLOGIES } from "../support/servers.js";
import { openStore, testRepo, uniqueProject, type OpenedStore } from "../support/store.js";

// Recent, so rows are within the view's max age.
const T0 = Date.now() - 1_000;

function version(eventMs: number, lsn = 0): Version {
  return {
    eventTsMs: T0 + eventMs,
    epoch: 0,
    hlc: { wallMs: lsn, counter: 0 },
    originRegion: "local",
  };
}

function put(driver: number, rate: number, v: Version): WriteRow {
  return {
    view: "stats@1",
    entity: { driver_id: driver },
    values: { rate, trips: 1, label: "x" },
    version: v,
  };
}

function remove(driver: number, v: Version): WriteRow {
  return { view: "stats@1", entity: { driver_id: driver }, values: {}, version: v, deleted: true };
}

const FEATURES = ["stats@1:rate", "stats@1:trips", "stats@1:label"];

for (const topology of TOPOLOGIES) {
  for (const hotCache of [false, true]) {
    describe(`deletes in the online store (${topology}, hot cache ${hotCache ? "on" : "off"})`, () => {
      const registry = new FeatureRegistry(testRepo(uniqueProject("cdcdel")));
      let opened: OpenedStore;

      before(async () => {
        opened = await openStore(topology, registry, hotCache ? {} : { hotCache: false });
      });
      after(() => opened.close());

      const read = async (driver: number) =>
        (await opened.store.read([{ driver_id: driver }], FEATURES)).rows[0]!;

      it("reads NOT_FOUND after a delete, keeping the delete's version and no feature field", async () => {
        const { store, client } = opened;
        await store.write([put(1, 0.5, version(10, 1))]);
        assert.deepEqual((await read(1)).statuses, ["PRESENT", "PRESENT", "PRESENT"]);
        const report = await store.write([remove(1, version(20, 2))]);
        assert.equal(report.applied, 1);
        assert.deepEqual((await read(1)).statuses, ["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
        const key = `fs:{${registry.project}:driver:i1}`;
        const fields = (await client.hkeys(key)).sort();
        assert.deepEqual(fields, ["stats@1#0:_cv", "stats@1#0:_v"]);
      });

      it("never resurrects: an older write after the delete is stale, a newer one writes again", async () => {
        const { store } = opened;
        await store.write([put(2, 0.5, version(10, 1)), remove(2, version(20, 2))]);
        const replay = await store.write([put(2, 0.7, version(15, 5))]);
        assert.equal(replay.stale, 1);
        assert.deepEqual((await read(2)).statuses, ["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
        // Same commit time, earlier log position: still older.
        assert.equal((await store.write([put(2, 0.8, version(20, 1))])).stale, 1);
        assert.equal((await store.write([put(2, 0.9, version(30, 3))])).applied, 1);
        const row = await read(2);
        assert.deepEqual(row.statuses, ["PRESENT", "PRESENT", "PRESENT"]);
        assert.equal(row.values[0], 0.9);
      });

      it("ignores a replayed older delete after a newer insert", async () => {
        const { store } = opened;
        await store.write([put(3, 0.5, version(30, 3))]);
        assert.equal((await store.write([remove(3, version(20, 2))])).stale, 1);
        assert.equal((await read(3)).values[0], 0.5);
      });
    });
  }
}

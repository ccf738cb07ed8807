import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Cluster, Redis } from "ioredis";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { OnlineStore, type WriteRow } from "../../shared/online-store/index.js";
import { HybridLogicalClock } from "../../shared/versions/index.js";
import { LuaScript } from "../../shared/online-store/lua-script.js";
import { startCluster, startStandalone } from "../support/redis-process.js";
import { testRepo, uniqueProject } from "../support/store.js";

const CAS_SHA = LuaScript.fromFile("cas-write").sha;
const clock = new HybridLogicalClock();
const rows = (ids: number[], rate: number): WriteRow[] =>
  ids.map((driver_id) => ({
    view: "stats@1",
    entity: { driver_id },
    values: { rate, trips: 1, label: "x" },
    version: { eventTsMs: Date.now(), epoch: 0, hlc: clock.now(), originRegion: "us-east-1" },
  }));
const ids = Array.from({ length: 30 }, (_, i) => i);
const rates = async (store: OnlineStore) =>
  (
    await store.read(
      ids.map((driver_id) => ({ driver_id })),
      ["stats@1:rate"],
    )
  ).rows.map((r) => r.values[0]);

describe("writes keep working when Redis restarts and forgets its scripts", () => {
  const registry = new FeatureRegistry(testRepo(uniqueProject("restart")));

  describe("standalone", () => {
    let redis: Awaited<ReturnType<typeof startStandalone>>;
    let client: Redis;
    let store: OnlineStore;
    before(async () => {
      redis = await startStandalone();
      client = new Redis(redis.url);
      store = await OnlineStore.open({ client, registry, hotCache: false });
    });
    after(async () => {
      await store.close();
      client.disconnect();
      await redis.stop();
    });

    it("reloads the CAS script transparently after the server restarted", async () => {
      await store.write(rows(ids, 1));
      assert.equal(store.stats().scriptReloads, 0);
      await redis.server.restart();
      const probe = new Redis(redis.url);
      assert.deepEqual(
        await probe.script("EXISTS", CAS_SHA),
        [0],
        "the restarted server has no scripts",
      );
      probe.disconnect();
      // The same call as before the restart: no retry, no reload, nothing new from the caller.
      const report = await store.write(rows(ids, 2));
      assert.equal(report.applied, ids.length);
      assert.ok(store.stats().scriptReloads > 0, "NOSCRIPT was answered and the script re-sent");
      assert.deepEqual(
        await rates(store),
        ids.map(() => 2),
      );
    });
  });

  describe("cluster", () => {
    let cluster: Awaited<ReturnType<typeof startCluster>>;
    let client: Cluster;
    let store: OnlineStore;
    before(async () => {
      cluster = await startCluster();
      client = new Cluster(cluster.nodes.map((n) => ({ host: "127.0.0.1", port: n.port })));
      store = await OnlineStore.open({ client, registry, hotCache: false });
    });
    after(async () => {
      await store.close();
      client.disconnect();
      await cluster.stop();
    });

    it("reloads the CAS script on every node after all of them restarted", async () => {
      await store.write(rows(ids, 1));
      for (const node of cluster.nodes) await node.restart();
      await cluster.waitOk();
      // The same call as before the restart: no retry, no reload, nothing new from the caller.
      const report = await store.write(rows(ids, 2));
      assert.equal(report.applied, ids.length);
      assert.ok(store.stats().scriptReloads > 0);
      assert.deepEqual(
        await rates(store),
        ids.map(() => 2),
      );
    });
  });
});

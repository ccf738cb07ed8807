// Degraded reads: while invalidation is lost and Redis is down, a serving process answers
// from what its hot cache held (and what reads returned since), within a configured bound
// of staleness, never older than what it already returned, with the rows listed as
// degraded and counted. Against redis-servers this test owns and kills or pauses, never the
// shared ones.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import calculateSlot from "cluster-key-slot";
import {
  connectFailFast,
  OnlineStore,
  type RedisClient,
  type WriteRow,
} from "../../shared/online-store/index.js";
import { generationPointerKey } from "../../shared/online-store/redis-layout.js";
import { prepareWrites } from "../../shared/online-store/write-path.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { HybridLogicalClock } from "../../shared/versions/index.js";
import { startCluster, startStandalone } from "../support/redis-process.js";
import { post } from "../support/serve.js";
import { startServeProcess, type ServeProcess } from "../support/serve-process.js";
import { testRepo, uniqueProject } from "../support/store.js";

/** STRATA_DEGRADED_MAX_STALENESS_MS of the serving process: short, so the test can outlive it. */
const MAX_STALENESS_MS = 5_000;

const clock = new HybridLogicalClock();
function row(driver_id: number, rate: number): WriteRow {
  return {
    view: "stats@1",
    entity: { driver_id },
    values: { rate, trips: 1, label: "x" },
    version: { eventTsMs: Date.now(), epoch: 0, hlc: clock.now(), originRegion: "us-east-1" },
  };
}

async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("degraded reads of a serving process while Redis is down", () => {
  const project = uniqueProject("degr");
  const registry = new FeatureRegistry(testRepo(project));
  let redis: Awaited<ReturnType<typeof startStandalone>>;
  let server: ServeProcess;
  let writerClient: Redis;
  let writer: OnlineStore;
  let admin: Redis;

  before(async () => {
    redis = await startStandalone();
    writerClient = new Redis(redis.url);
    // The test kills this server: its own clients' reconnect errors are expected.
    writerClient.on("error", () => {});
    writer = await OnlineStore.open({ client: writerClient, registry, hotCache: false });
    admin = new Redis(redis.url);
    admin.on("error", () => {});
    server = await startServeProcess({
      project,
      topology: "standalone",
      region: "degr",
      redisUrl: redis.url,
      kafka: false,
      env: { STRATA_DEGRADED_MAX_STALENESS_MS: String(MAX_STALENESS_MS) },
    });
  });
  after(async () => {
    await server?.stop();
    await writer?.close();
    writerClient?.disconnect();
    admin?.disconnect();
    await redis?.stop();
  });

  const read = (drivers: number[]) =>
    post(
      server.url,
      { features: ["stats@1:rate"], entities: { driver_id: drivers } },
      { key: server.key },
    );
  const rates = (response: { json: Record<string, unknown> }) =>
    (response.json.results as { values: unknown[] }[])[1]!.values;
  const metric = async (name: string) => {
    const text = await (await fetch(`${server.adminUrl}/metrics`)).text();
    const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
    return match ? Number(match[1]) : 0;
  };

  it("serves the newest value it returned, lists and counts the degraded rows, and refuses past the bound", async () => {
    await writer.write([row(1, 0.1), row(2, 0.2)]);
    const fresh = await read([1, 2]);
    assert.deepEqual(rates(fresh), [0.1, 0.2]);
    assert.equal(fresh.json.strata, undefined, "nothing degraded while Redis answers");

    // Invalidation lost while Redis still answers: the subscriber connection is cut and cannot
    // come back (the server now wants a password this process lacks), while the connections
    // already open, the process' data connection among them, stay authenticated.
    const flushes = await metric("strata_hot_cache_flushes");
    await admin.config("SET", "requirepass", "degraded-test");
    await admin.client("KILL", "TYPE", "pubsub");
    await pollUntil(
      async () => (await metric("strata_hot_cache_flushes")) > flushes,
      5_000,
      "the process notices",
    );

    // A newer value, returned from Redis while invalidation is lost (so not cached).
    await writer.write([row(1, 0.15)]);
    const newer = await read([1]);
    assert.deepEqual(rates(newer), [0.15]);
    assert.equal(newer.json.strata, undefined);
    const newerReadAt = Date.now();

    await redis.server.kill();
    const degraded = await read([1, 2, 1]);
    assert.equal(degraded.status, 200, degraded.text);
    // Never the value the cache held when invalidation was lost (0.1): 0.15 was returned since.
    assert.deepEqual(rates(degraded), [0.15, 0.2, 0.15]);
    const strata = degraded.json.strata as { degraded: number[]; age_ms: number[]; reason: string };
    assert.deepEqual(strata.degraded, [0, 1, 2]);
    assert.equal(strata.reason, "redis_unavailable");
    assert.equal(strata.age_ms.length, 3);
    assert.ok(strata.age_ms.every((age) => age >= 0 && age <= MAX_STALENESS_MS));
    assert.ok(strata.age_ms[1]! >= strata.age_ms[0]!, "driver 2's value was read earlier");
    // Feast's statuses are unchanged: the marking is Strata's own field.
    assert.deepEqual((degraded.json.results as { statuses: string[] }[])[1]!.statuses, [
      "PRESENT",
      "PRESENT",
      "PRESENT",
    ]);
    assert.equal(await metric("strata_degraded_rows_total"), 3);
    assert.equal(await metric("strata_degraded_reads_total"), 1);

    const uncached = await read([3]);
    assert.equal(uncached.status, 503);

    // Past the bound, even the value read last is refused.
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, newerReadAt + MAX_STALENESS_MS + 200 - Date.now())),
    );
    const tooOld = await read([1]);
    assert.equal(tooOld.status, 503, tooOld.text);
    assert.equal((tooOld.json.error as { code: string }).code, "STRATA_E_REDIS_UNAVAILABLE");
  });
});

describe("degraded reads on a Redis Cluster whose one node stops answering", () => {
  const registry = new FeatureRegistry(testRepo(uniqueProject("degc")));
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let client: RedisClient;
  let writerClient: RedisClient;
  let store: OnlineStore;
  let writer: OnlineStore;

  before(async () => {
    cluster = await startCluster();
    const clusterNodes = cluster.nodes.map((n) => ({ host: "127.0.0.1", port: n.port }));
    // As the serving tier connects: fail fast, and a command timeout (a node that hangs fails its keys).
    client = connectFailFast({ clusterNodes }, { commandTimeoutMs: 300 });
    writerClient = connectFailFast({ clusterNodes });
    for (const c of [client, writerClient]) c.on("error", () => {});
    store = await OnlineStore.open({ client, registry });
    writer = await OnlineStore.open({ client: writerClient, registry, hotCache: false });
  });
  after(async () => {
    await store?.close();
    await writer?.close();
    client?.disconnect();
    writerClient?.disconnect();
    await cluster?.stop();
  });

  it("lists only the rows whose node failed; the others come from Redis", async () => {
    const drivers = Array.from({ length: 12 }, (_, i) => i + 1);
    const rows = drivers.map((d) => row(d, d / 10));
    await writer.write(rows);
    const entities = drivers.map((driver_id) => ({ driver_id }));
    const fresh = await store.read(entities, ["stats@1:rate"]);
    assert.deepEqual(
      fresh.rows.map((r) => r.values[0]),
      drivers.map((d) => d / 10),
    );
    assert.equal(fresh.degraded, undefined);

    // The node to stop: one that holds some of the rows but not the generation pointer.
    const first = new Redis(cluster.nodes[0]!.port, "127.0.0.1");
    const slots = await first.cluster("SLOTS");
    first.disconnect();
    const ownerOf = (key: string) => {
      const slot = calculateSlot(key);
      return slots.find(([from, to]) => slot >= from && slot <= to)![2]![1];
    };
    const keys = prepareWrites(registry, rows).map((p) => p.redisKey);
    const pointer = generationPointerKey(registry.project, registry.viewByRef("stats@1").key);
    const victim = cluster.nodes.find(
      (n) => n.port !== ownerOf(pointer) && keys.some((k) => ownerOf(k) === n.port),
    )!;
    const onVictim = drivers.flatMap((_, i) => (ownerOf(keys[i]!) === victim.port ? [i] : []));
    assert.ok(onVictim.length > 0 && onVictim.length < drivers.length);

    // Invalidation lost on that node (its subscriber cut, and kept out by a password), then
    // the node stops answering commands for a while: its keys time out, the others answer.
    const admin = new Redis(victim.port, "127.0.0.1");
    admin.on("error", () => {});
    try {
      await admin.config("SET", "requirepass", "degraded-test");
      await admin.client("KILL", "TYPE", "pubsub");
      await pollUntil(() => Promise.resolve(!store.invalidationArmed), 5_000, "disarmed");
      await admin.client("PAUSE", "2000", "ALL");
      const partial = await store.read(entities, ["stats@1:rate"]);
      assert.deepEqual(
        partial.rows.map((r) => r.values[0]),
        drivers.map((d) => d / 10),
      );
      assert.deepEqual(
        partial.degraded?.map((d) => d.row),
        onVictim,
      );
    } finally {
      await admin.client("UNPAUSE").catch(() => {});
      admin.disconnect();
    }
  });
});

// The library read API (OnlineStore.read) over aggregation state laid out as CONTRACTS.md
// "Aggregation state in Redis" says, on a private Redis whose command counts are the test's own:
// one HMGET per entity for plain features and aggregates together, the hot cache bypassed for
// aggregates only, and the window computed at the store's clock.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { encodeEntityKey, entityRedisKey } from "../../shared/key-codec.js";
import { OnlineStore } from "../../shared/online-store/index.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { HybridLogicalClock } from "../../shared/versions/index.js";
import { aggregationsServeRepo } from "../support/aggregations-serve-repo.js";
import { startStandalone } from "../support/redis-process.js";
import { uniqueProject } from "../support/store.js";

const MINUTE = 60_000;
/** The store's clock: a read's window is computed at it. */
let clockMs = Math.floor(Date.now() / MINUTE) * MINUTE + 30_000;

describe("aggregates through the library read API (private Redis)", () => {
  const registry = new FeatureRegistry(aggregationsServeRepo(uniqueProject("aggreads")));
  const view = registry.aggregationView("card_txn");
  const cards = ["a", "b", "c"];
  let redis: Awaited<ReturnType<typeof startStandalone>>;
  let client: Redis;
  let store: OnlineStore;

  const keyOf = (card: string) =>
    entityRedisKey(
      registry.project,
      view.entitySet,
      encodeEntityKey(view.joinKeys, { card_id: card }),
    );
  const hmgets = async () => {
    const stats = await client.info("commandstats");
    return Number(/cmdstat_hmget:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  };

  before(async () => {
    redis = await startStandalone();
    client = new Redis(redis.url);
    store = await OnlineStore.open({ client, registry, now: () => clockMs });
    const hlc = new HybridLogicalClock();
    await store.write(
      cards.map((card, i) => ({
        view: "card_last",
        entity: { card_id: card },
        values: { amount: i + 0.5, merchant: `m${i}` },
        version: { eventTsMs: clockMs - 1_000, epoch: 0, hlc: hlc.now(), originRegion: "t" },
      })),
    );
    // n_10m (one-minute tiles): card i has i + 1 events in each of the last ten minutes' tiles.
    const last = Math.floor(clockMs / MINUTE);
    for (const [i, card] of cards.entries()) {
      const fields: Record<string, string> = { [`${view.key}#0:_wm`]: String(clockMs - 1_000) };
      for (let k = last - 9; k <= last; k++) fields[`${view.key}#0:n_10m:${k}`] = String(i + 1);
      await client.hset(keyOf(card), fields);
    }
  });
  after(async () => {
    await store?.close();
    client?.disconnect();
    await redis?.stop();
  });

  it("reads an entity's plain features and aggregates with one HMGET, caching only the plain ones", async () => {
    const features = ["card_last:amount", "card_txn:n_10m", "card_txn:last5"];
    const entities = cards.map((card_id) => ({ card_id }));
    const before = await hmgets();
    const first = await store.read(entities, features);
    assert.equal((await hmgets()) - before, cards.length, "one HMGET per entity");
    assert.deepEqual(
      first.rows.map((r) => r.values),
      [
        [0.5, 10, []],
        [1.5, 20, []],
        [2.5, 30, []],
      ],
    );
    // Again: the plain features come from the hot cache, the aggregates from Redis, still in
    // one HMGET per entity.
    const hitsBefore = store.stats().cache!.hits;
    await store.read(entities, features);
    assert.equal((await hmgets()) - before, 2 * cards.length, "aggregates are read every time");
    assert.equal(store.stats().cache!.hits - hitsBefore, cards.length, "plain rows were cached");
    await store.read(entities, ["card_last:amount"]);
    assert.equal((await hmgets()) - before, 2 * cards.length, "plain-only reads stay in the cache");
  });

  it("computes the window at the store's clock: a tile later the oldest tile is out", async () => {
    const read = async () => (await store.read([{ card_id: "b" }], ["card_txn:n_10m"])).rows[0]!;
    assert.equal((await read()).values[0], 20);
    clockMs += MINUTE;
    const later = await read();
    assert.deepEqual([later.values[0], later.statuses[0]], [18, "PRESENT"]);
    clockMs += 10 * MINUTE;
    const empty = await read();
    assert.deepEqual([empty.values[0], empty.statuses[0]], [0, "PRESENT"]);
  });
});

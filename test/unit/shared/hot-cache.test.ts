import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { HotCache, type HotCacheOptions } from "../../../shared/hot-cache/index.js";
import { mergeEntries, type CacheEntry } from "../../../shared/online-store/cache-entries.js";

interface Box {
  v: number;
}

function armedCache(options: HotCacheOptions = {}): HotCache<Box> {
  const cache = new HotCache<Box>(options);
  cache.setArmed(true);
  return cache;
}

function put(cache: HotCache<Box>, key: string, v = 1): boolean {
  return cache.fill(cache.beginFetch(key), { v });
}

describe("hot cache", () => {
  it("stores a fetch nothing invalidated, and serves it", () => {
    const cache = armedCache();
    assert.equal(put(cache, "k", 7), true);
    assert.deepEqual(cache.get("k"), { v: 7 });
  });

  it("drops a fetch that an invalidation overtook (the client-side caching race)", () => {
    const cache = armedCache();
    const ticket = cache.beginFetch("k");
    cache.invalidate("k"); // the write's invalidation arrives before the read's reply
    assert.equal(cache.fill(ticket, { v: 1 }), false);
    assert.equal(cache.get("k"), undefined);
    // A fetch that starts after the invalidation is stored as usual.
    assert.equal(put(cache, "k", 2), true);
  });

  it("voids every ticket on flush", () => {
    const cache = armedCache();
    const a = cache.beginFetch("a");
    const b = cache.beginFetch("b");
    cache.flush();
    assert.equal(cache.fill(a, { v: 1 }), false);
    assert.equal(cache.fill(b, { v: 1 }), false);
  });

  it("stores nothing while unarmed, and a ticket taken while unarmed stays void after arming", () => {
    const cache = new HotCache<Box>();
    assert.equal(put(cache, "k"), false);
    const early = cache.beginFetch("k");
    cache.setArmed(true);
    assert.equal(cache.fill(early, { v: 1 }), false);
    assert.equal(put(cache, "k"), true);
  });

  it("flushes when disarmed: whatever it held may change unseen", () => {
    const cache = armedCache();
    put(cache, "k");
    cache.setArmed(false);
    assert.equal(cache.get("k"), undefined);
    assert.equal(cache.stats().flushes, 1);
  });

  it("expires entries after the safety TTL even without an invalidation", async () => {
    const cache = armedCache({ ttlMs: 20 });
    put(cache, "k");
    assert.ok(cache.get("k"));
    await sleep(60);
    assert.equal(cache.get("k"), undefined);
  });

  it("keeps hot keys hot while one-off keys stream through (TinyLFU admission)", () => {
    // 50 hot keys, each read every 50 steps, between 3 one-off keys per step: more distinct
    // keys pass between two reads of a hot key than the cache holds, so LRU forgets them.
    const hotHitRatio = (admission: "tinylfu" | "lru") => {
      const cache = armedCache({ maxEntries: 100, admission });
      let hits = 0;
      const steps = 10_000;
      for (let step = 0; step < steps; step++) {
        const hot = `hot-${step % 50}`;
        if (cache.get(hot)) hits++;
        else put(cache, hot);
        for (let s = 0; s < 3; s++) {
          const oneOff = `scan-${step}-${s}`;
          if (!cache.get(oneOff)) put(cache, oneOff);
        }
      }
      return hits / steps;
    };
    const lru = hotHitRatio("lru");
    const tinylfu = hotHitRatio("tinylfu");
    assert.ok(lru < 0.1, `lru hot hit ratio ${lru}`);
    assert.ok(tinylfu > 0.9, `tinylfu hot hit ratio ${tinylfu}`);
  });

  it("counts hits, misses, evictions and invalidations", () => {
    const cache = armedCache({ maxEntries: 2, admission: "lru" });
    put(cache, "a");
    put(cache, "b");
    put(cache, "c"); // evicts a
    cache.record(true);
    cache.record(false);
    cache.invalidate("b");
    cache.invalidate("zzz"); // not cached: not counted
    const stats = cache.stats();
    assert.equal(stats.evictions, 1);
    assert.equal(stats.invalidations, 1);
    assert.equal(stats.hits, 1);
    assert.equal(stats.misses, 1);
    assert.equal(stats.size, 1);
  });

  it("bounds its size in bytes when asked to", () => {
    const cache = armedCache({ maxBytes: 1_000, sizeOf: () => 100, admission: "lru" });
    for (let i = 0; i < 50; i++) put(cache, `k${i}`);
    assert.equal(cache.stats().size, 10);
  });
});

describe("cache entries merge", () => {
  const row = (version: string | null, v: number) => ({
    version,
    eventTsMs: 0,
    values: [v],
    jsonTexts: [String(v)],
  });
  const entity = (rows: [string, ReturnType<typeof row>][]): CacheEntry => ({
    kind: "entity",
    rows: new Map(rows),
  });

  it("never replaces a row with a lower version (monotonic reads)", () => {
    const cached = entity([["v@1#0:", row("000000000002", 2)]]);
    const older = entity([
      ["v@1#0:", row("000000000001", 1)],
      ["w@1#0:", row("000000000001", 5)],
    ]);
    const merged = mergeEntries(cached, older);
    assert.ok(merged.kind === "entity");
    assert.equal(merged.rows.get("v@1#0:")!.values[0], 2);
    assert.equal(merged.rows.get("w@1#0:")!.values[0], 5);
    const newer = mergeEntries(merged, entity([["v@1#0:", row("000000000003", 3)]]));
    assert.ok(newer.kind === "entity");
    assert.equal(newer.rows.get("v@1#0:")!.values[0], 3);
  });
});

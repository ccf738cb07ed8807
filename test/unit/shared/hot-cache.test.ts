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

  describe("the fallback for reads Redis cannot answer", () => {
    const newest = (kept: Box, fetched: Box) => (fetched.v > kept.v ? fetched : kept);
    const fetchWhileUnarmed = (cache: HotCache<Box>, key: string, v: number) =>
      cache.fill(cache.beginFetch(key), { v }, newest);

    it("keeps what it held when disarmed, and what reads return while unarmed, never lowering a value", () => {
      const cache = armedCache();
      put(cache, "k", 1);
      cache.setArmed(false);
      assert.deepEqual(cache.fallbackGet("k"), { v: 1 });
      // A read answered by Redis while unarmed: not cached, but kept aside, so that a later
      // degraded read never answers with the older value this process already superseded.
      assert.equal(fetchWhileUnarmed(cache, "k", 3), false);
      assert.equal(cache.get("k"), undefined);
      assert.deepEqual(cache.fallbackGet("k"), { v: 3 });
      fetchWhileUnarmed(cache, "k", 2);
      assert.deepEqual(cache.fallbackGet("k"), { v: 3 });
      fetchWhileUnarmed(cache, "new", 5);
      assert.deepEqual(cache.fallbackGet("new"), { v: 5 });
    });

    it("drops a key on its invalidation, and on a fetch an invalidation overtook", () => {
      const cache = armedCache();
      put(cache, "a", 1);
      put(cache, "b", 1);
      cache.setArmed(false);
      cache.invalidate("a");
      assert.equal(cache.fallbackGet("a"), undefined);
      const overtaken = cache.beginFetch("b");
      assert.deepEqual(cache.fallbackGet("b"), { v: 1 });
      const later = cache.beginFetch("b");
      cache.invalidate("b");
      fetchWhileUnarmed(cache, "b", 4);
      assert.deepEqual(cache.fallbackGet("b"), { v: 4 });
      cache.fill(overtaken, { v: 9 }, newest);
      assert.equal(
        cache.fallbackGet("b"),
        undefined,
        "what the overtaken fetch saw proves nothing",
      );
      cache.fill(later, { v: 9 }, newest);
      assert.equal(cache.fallbackGet("b"), undefined);
    });

    it("is gone once re-armed, and on a flush", () => {
      const cache = armedCache();
      put(cache, "k", 1);
      cache.setArmed(false);
      cache.setArmed(true);
      assert.equal(cache.fallbackGet("k"), undefined);
      put(cache, "k", 1);
      cache.setArmed(false);
      cache.flush();
      assert.equal(cache.fallbackGet("k"), undefined);
    });
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
  const row = (version: string | null, v: number, fetchedAtMs = 0) => ({
    version,
    eventTsMs: 0,
    fetchedAtMs,
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

  it("takes the same version read again, so that the row says when it was last read", () => {
    const cached = entity([["v@1#0:", row("000000000002", 2, 1_000)]]);
    const merged = mergeEntries(cached, entity([["v@1#0:", row("000000000002", 2, 5_000)]]));
    assert.ok(merged.kind === "entity");
    assert.equal(merged.rows.get("v@1#0:")!.fetchedAtMs, 5_000);
    const older = mergeEntries(merged, entity([["v@1#0:", row("000000000001", 1, 9_000)]]));
    assert.ok(older.kind === "entity");
    assert.equal(older.rows.get("v@1#0:")!.fetchedAtMs, 5_000);
  });
});

import { LRUCache } from "lru-cache";
import { FrequencySketch } from "./frequency-sketch.js";

export interface HotCacheOptions {
  /** Most entries held (default 100,000). */
  maxEntries?: number;
  /** Optional bound on the estimated bytes held; needs `sizeOf`. */
  maxBytes?: number;
  /** Estimated bytes of one entry, when maxBytes is set. */
  sizeOf?: (key: string, value: object) => number;
  /** Safety TTL: an entry is dropped this long after it was filled, even if no invalidation came (default 60 s). */
  ttlMs?: number;
  /** "tinylfu" (default) admits a new key only if it is more frequent than the entry it would evict; "lru" always admits. */
  admission?: "tinylfu" | "lru";
}

export interface HotCacheStats {
  hits: number;
  misses: number;
  evictions: number;
  invalidations: number;
  flushes: number;
  rejectedAdmissions: number;
  size: number;
}

/** Proof that a fetch began while the cache was coherent; see `beginFetch`. */
export interface FetchTicket {
  readonly key: string;
  readonly token: number;
}

interface Pending {
  token: number;
  fetches: number;
}

/**
 * The in-process L1 in front of Redis: size-bounded, frequency-aware admission (TinyLFU
 * over LRU order), a safety TTL, and fills that can never store a value an invalidation
 * has already overtaken.
 *
 * Race this guards against: a read fetches a key, a write changes it and the invalidation
 * arrives before the read's reply. Storing that reply would cache a stale value until the
 * TTL. So a fetch takes a ticket first; an invalidation of the key (or a flush) voids every
 * ticket taken before it; `fill` stores only with a valid ticket. (The placeholder scheme
 * the Redis client-side caching documentation recommends.)
 */
export class HotCache<V extends object> {
  private cache: LRUCache<string, V>;
  private readonly sketch: FrequencySketch;
  private readonly pending = new Map<string, Pending>();
  private readonly tinylfu: boolean;
  private nextToken = 1;
  private armed = false;
  private fallback: LRUCache<string, V> | undefined;
  private readonly newCache: () => LRUCache<string, V>;
  private readonly counters = {
    hits: 0,
    misses: 0,
    evictions: 0,
    invalidations: 0,
    flushes: 0,
    rejectedAdmissions: 0,
  };

  constructor(options: HotCacheOptions = {}) {
    const maxEntries = options.maxEntries ?? 100_000;
    this.tinylfu = (options.admission ?? "tinylfu") === "tinylfu";
    this.sketch = new FrequencySketch(maxEntries);
    const sizeOf = options.sizeOf;
    this.newCache = () =>
      new LRUCache<string, V>({
        max: maxEntries,
        ttl: options.ttlMs ?? 60_000,
        ...(options.maxBytes !== undefined && sizeOf
          ? {
              maxSize: options.maxBytes,
              sizeCalculation: (value: V, key: string) => Math.max(1, sizeOf(key, value)),
            }
          : {}),
        disposeAfter: (_value, _key, reason) => {
          if (reason === "evict") this.counters.evictions++;
        },
      });
    this.cache = this.newCache();
  }

  /**
   * Fills are allowed only while invalidation is armed (every Redis connection has client
   * tracking on, and the invalidation channel is up). Disarming flushes: whatever was
   * cached may have changed unseen.
   */
  setArmed(armed: boolean): void {
    if (!armed && this.armed) {
      // What was cached may change unseen from now on: it leaves the cache, but is kept aside
      // as a last resort for reads that Redis cannot answer (served marked as degraded).
      this.fallback = this.cache;
      this.cache = this.newCache();
      this.pending.clear();
      this.counters.flushes++;
    }
    if (armed && !this.armed) {
      // Arming voids tickets taken while unarmed: their reads may have run before tracking was on.
      this.pending.clear();
      this.fallback = undefined;
    }
    this.armed = armed;
  }

  /**
   * What the cache held when invalidation was last lost, and what reads returned since, while
   * it is still unarmed: only for answering reads that Redis cannot, marked as such by the
   * caller, who also bounds how old a value it serves (the safety TTL does not apply here).
   * Never fresh.
   */
  fallbackGet(key: string): V | undefined {
    return this.fallback?.peek(key, { allowStale: true });
  }

  get isArmed(): boolean {
    return this.armed;
  }

  /** The cached value, if any; every call counts towards the key's admission frequency. */
  get(key: string): V | undefined {
    if (this.tinylfu) this.sketch.increment(key);
    return this.cache.get(key);
  }

  /**
   * The cached value without counting towards admission: for the few keys that are always
   * admitted (see `fill`'s `always`), such as generation pointers read on every request.
   */
  peek(key: string): V | undefined {
    return this.cache.get(key);
  }

  /**
   * Counts a lookup as hit or miss. Separate from `get` because one entry can answer some
   * lookups and not others (an entity cached for one view, asked for another).
   */
  record(hit: boolean): void {
    if (hit) this.counters.hits++;
    else this.counters.misses++;
  }

  /** Call before reading `key` from Redis; pass the ticket to `fill` or `abandon`. */
  beginFetch(key: string): FetchTicket {
    let pending = this.pending.get(key);
    if (!pending) {
      pending = { token: this.nextToken++, fetches: 0 };
      this.pending.set(key, pending);
    }
    pending.fetches++;
    return { key, token: pending.token };
  }

  /**
   * Stores what a fetch read, if nothing invalidated the key since the fetch began.
   * `merge` combines it with a value already cached (for monotonic reads: keep the higher
   * version of each row). `always` skips the admission filter, for a handful of keys every
   * request needs. Returns whether it was stored.
   */
  fill(
    ticket: FetchTicket,
    value: V,
    merge?: (cached: V, fetched: V) => V,
    always = false,
  ): boolean {
    const valid = this.release(ticket);
    if (!this.armed) {
      this.keepAside(ticket.key, valid ? value : undefined, merge);
      return false;
    }
    if (!valid) return false;
    const cached = this.cache.peek(ticket.key);
    if (cached !== undefined) {
      this.cache.set(ticket.key, merge ? merge(cached, value) : value);
      return true;
    }
    if (!always && !this.admit(ticket.key)) {
      this.counters.rejectedAdmissions++;
      return false;
    }
    this.cache.set(ticket.key, value);
    return true;
  }

  /** A fetch that failed: forget its ticket. */
  abandon(ticket: FetchTicket): void {
    this.release(ticket);
  }

  /** Redis said `key` changed (or this process wrote it). */
  invalidate(key: string): void {
    this.pending.delete(key);
    if (this.cache.delete(key)) this.counters.invalidations++;
    // A value known to be replaced is not served even as a degraded answer.
    this.fallback?.delete(key);
  }

  /** Drops everything and voids every ticket in flight (and, unless kept, the fallback). */
  flush(dropFallback = true): void {
    this.pending.clear();
    this.cache.clear();
    if (dropFallback) this.fallback = undefined;
    this.counters.flushes++;
  }

  stats(): HotCacheStats {
    return { ...this.counters, size: this.cache.size };
  }

  /**
   * While unarmed, what a read returned from Redis joins the fallback (through `merge`, so a
   * kept row is never replaced by a lower version): a degraded read must never answer with a
   * value older than one this process already returned for the key. A fetch an invalidation
   * overtook (`value` undefined) proves nothing about the key, so the key leaves the fallback.
   */
  private keepAside(key: string, value: V | undefined, merge?: (kept: V, fetched: V) => V): void {
    const fallback = this.fallback;
    if (!fallback) return;
    if (value === undefined) {
      fallback.delete(key);
      return;
    }
    const kept = fallback.peek(key, { allowStale: true });
    fallback.set(key, kept !== undefined && merge ? merge(kept, value) : value);
  }

  private release(ticket: FetchTicket): boolean {
    const pending = this.pending.get(ticket.key);
    if (!pending || pending.token !== ticket.token) return false;
    if (--pending.fetches === 0) this.pending.delete(ticket.key);
    return true;
  }

  /** TinyLFU: when full, a newcomer must be more frequent than the LRU victim it would push out. */
  private admit(key: string): boolean {
    const full =
      this.cache.size >= this.cache.max ||
      (this.cache.maxSize > 0 && this.cache.calculatedSize >= this.cache.maxSize);
    if (!this.tinylfu || !full) return true;
    const victim = this.cache.rkeys().next();
    if (victim.done) return true;
    return this.sketch.estimate(key) > this.sketch.estimate(victim.value);
  }
}

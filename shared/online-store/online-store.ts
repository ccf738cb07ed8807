import { StrataError } from "../errors.js";
import { ClientTracking } from "../hot-cache/client-tracking.js";
import { HotCache, type HotCacheOptions, type HotCacheStats } from "../hot-cache/hot-cache.js";
import type { FeatureRegistry, ResolvedFeatureRef } from "../registry/feature-registry.js";
import { LiveRegistry } from "../registry/live-registry.js";
import { estimateEntryBytes, type CacheEntry } from "./cache-entries.js";
import { appendCasCallArguments, groupCasCalls } from "./cas-calls.js";
import { Generations, unavailable } from "./generations.js";
import { isNoScript, LuaScript } from "./lua-script.js";
import {
  assertNoKeyPrefix,
  execLargeBatch,
  isCluster,
  type KeyedCommand,
  type RedisClient,
  type Reply,
} from "./pipeline.js";
import { readFeatures, type ReadContext, type ReadResult } from "./read-path.js";
import { waitUntilReady } from "./redis-ready.js";
import { backfillKeys, parseGenerationList, rowFields } from "./redis-layout.js";
import { SeenClock } from "./seen-clock.js";
import { prepareWrites, type PreparedWrite, type WriteRow } from "./write-path.js";

export interface OnlineStoreOptions {
  /** An ioredis client for the region's Redis: standalone (`Redis`) or `Cluster`. The caller owns it. */
  client: RedisClient;
  /**
   * The registry, or the live one a process follows. Every call uses one registry from start
   * to end: the one passed to it (a request's snapshot), else the one served when it starts.
   */
  registry: FeatureRegistry | LiveRegistry;
  /**
   * The in-process hot cache. `entities: false` keeps only generation pointers cached
   * (every feature read goes to Redis); `false` turns caching off entirely.
   */
  hotCache?: (HotCacheOptions & { entities?: boolean }) | false;
  /** The clock for maxAge checks and degraded-read ages; injectable for tests. */
  now?: () => number;
  /**
   * Degraded reads: when Redis cannot answer, a row may still come from what the hot cache held
   * when it lost invalidation (and what reads returned since), if it was read from Redis at
   * most this long ago (ms); the read reports such rows in `degraded`. Default: the hot cache's
   * safety TTL (`ttlMs`, 60 s), so a degraded value is never older than a cached one can be.
   * 0 turns degraded reads off.
   */
  degradedMaxStalenessMs?: number;
}

export type WriteOutcome = "applied" | "stale" | "corrupt";

export interface RowWriteResult {
  index: number;
  /**
   * applied: stored; stale: rejected as older than, or equal to, the stored version; corrupt:
   * not written, because the row's stored version or clock vector is not in the form the CAS
   * writes (STRATA_E_STORED_STATE_CORRUPT). The other rows of the batch are applied either way.
   */
  outcome: WriteOutcome;
  /**
   * Neither this write nor the stored winner knew of the other (docs/online-store.md, "Clock
   * vectors"): a cross-region conflict, still resolved by version.
   */
  concurrent: boolean;
  generation: number;
}

export interface WriteReport {
  rows: RowWriteResult[];
  applied: number;
  stale: number;
  concurrent: number;
  corrupt: number;
}

export interface WriteOptions {
  /** Write into this generation instead of the active one (backfills write the next one). */
  generation?: number;
  /**
   * Per view major (`view@major`), the generations to write its rows into, each row into every
   * one: what the changelog consumer does while a backfill runs (the active and the new
   * generation; docs/backfill.md). Views not listed go to `generation` or the active one.
   */
  generations?: ReadonlyMap<string, readonly number[]>;
  /** The registry to validate the rows against (a request's snapshot); default the one served now. */
  registry?: FeatureRegistry;
}

export interface OnlineStoreStats {
  cache: HotCacheStats | undefined;
  applied: number;
  stale: number;
  concurrent: number;
  /** Rows not written because their stored state was corrupt. */
  corrupt: number;
  /** Scripts re-sent with EVAL after a server answered NOSCRIPT. */
  scriptReloads: number;
}

const CAS_SCRIPT = LuaScript.fromFile("cas-write");
/** The script's answer for a row whose stored version or clock is corrupt (lua/cas-write.lua). */
const CAS_CORRUPT = 4;

/**
 * The online store of one region: versioned compare-and-swap writes and tiered reads
 * (hot cache, then Redis), on standalone Redis or Redis Cluster.
 */
export class OnlineStore {
  /** The registry this store follows; its project never changes. */
  readonly live: LiveRegistry;
  readonly project: string;
  /** The region's seen clock: raised by the changelog consumer, carried by writers. */
  readonly seen: SeenClock;
  private readonly client: RedisClient;
  private readonly cache: HotCache<CacheEntry> | undefined;
  private readonly tracking: ClientTracking | undefined;
  private readonly generations: Generations;
  private readonly readContext: ReadContext;
  private readonly counters = {
    applied: 0,
    stale: 0,
    concurrent: 0,
    corrupt: 0,
    scriptReloads: 0,
  };

  private constructor(options: OnlineStoreOptions) {
    this.client = options.client;
    this.live =
      options.registry instanceof LiveRegistry
        ? options.registry
        : LiveRegistry.fixed(options.registry);
    this.project = this.live.project;
    this.seen = new SeenClock(this.client, this.project);
    const cacheOptions = options.hotCache ?? {};
    if (cacheOptions !== false) {
      this.cache = new HotCache<CacheEntry>({ sizeOf: estimateEntryBytes, ...cacheOptions });
      this.tracking = new ClientTracking(this.client, this.cache);
    }
    const now = options.now ?? Date.now;
    this.generations = new Generations(this.client, this.project, this.cache, now);
    const maxStalenessMs =
      options.degradedMaxStalenessMs ?? (cacheOptions === false ? 0 : cacheOptions.ttlMs) ?? 60_000;
    if (!Number.isSafeInteger(maxStalenessMs) || maxStalenessMs < 0) {
      throw new StrataError(
        "STRATA_E_BAD_CONFIG",
        `degradedMaxStalenessMs must be a non-negative integer of milliseconds, not ${maxStalenessMs}`,
        { degradedMaxStalenessMs: maxStalenessMs },
      );
    }
    this.readContext = {
      client: this.client,
      project: this.project,
      generations: this.generations,
      entityCache:
        cacheOptions !== false && cacheOptions.entities !== false ? this.cache : undefined,
      now,
      degradedMaxStalenessMs: maxStalenessMs,
    };
  }

  /** The registry served now (take it once per request: it may be swapped for a newer one). */
  get registry(): FeatureRegistry {
    return this.live.registry;
  }

  /** Connects the store: loads the Lua scripts on every server and arms cache invalidation. */
  static async open(options: OnlineStoreOptions): Promise<OnlineStore> {
    assertNoKeyPrefix(options.client);
    const store = new OnlineStore(options);
    try {
      await waitUntilReady(store.client, 10_000);
      await CAS_SCRIPT.loadOn(store.client);
      await store.seen.load();
      await store.tracking?.start();
    } catch (error) {
      await store.close();
      throw error instanceof StrataError ? error : unavailable(error);
    }
    return store;
  }

  /**
   * Writes rows with the Lua compare-and-swap: each row lands only if its version is
   * strictly greater than the stored one. The whole batch is validated first; one bad
   * row rejects the batch (STRATA_E_BATCH_REJECTED) and nothing is written. A row whose
   * stored state in Redis is corrupt is reported `corrupt` and left as it is; the rest apply.
   */
  async write(rows: readonly WriteRow[], options: WriteOptions = {}): Promise<WriteReport> {
    // async, so that a rejected batch is a rejected promise, never a synchronous throw.
    return this.writePrepared(prepareWrites(options.registry ?? this.registry, rows), options);
  }

  /**
   * Writes rows that were validated and encoded already (by `prepareWrites`, or decoded from
   * the changelog): the changelog consumer validates record by record, so one bad record
   * goes to the dead-letter topic instead of rejecting its batch.
   */
  async writePrepared(
    prepared: readonly PreparedWrite[],
    options: WriteOptions = {},
  ): Promise<WriteReport> {
    const generationOf = await this.targetGenerations(prepared, options.generation);
    // A row of a view written into several generations is sent once per generation; `slots`
    // maps each sent row back to its input row, whose outcome is the first generation's.
    const extra = options.generations;
    let sent: { write: PreparedWrite; generation: number; input: number }[] | undefined;
    if (extra && prepared.some((p) => extra.has(p.view.key))) {
      sent = [];
      prepared.forEach((write, input) => {
        const listed = extra.get(write.view.key);
        if (listed === undefined || listed.length === 0) {
          sent!.push({ write, generation: generationOf.get(write.view.key)!, input });
          return;
        }
        for (const generation of listed) {
          checkGeneration(generation);
          sent!.push({ write, generation, input });
        }
      });
    }
    const keys = sent ? sent.map((s) => s.write.redisKey) : prepared.map((p) => p.redisKey);
    const groups = groupCasCalls(keys, isCluster(this.client));
    const calls = groups.map((rows) => {
      const argv = CAS_SCRIPT.evalshaArgv(rows.map((i) => keys[i]!));
      if (sent) {
        const entries = rows.map((i) => sent[i]!);
        appendCasCallArguments(
          argv,
          entries.map((e) => ({ ...e.write, fields: rowFields(e.write.view, e.generation) })),
          (row) => row.fields,
        );
      } else {
        appendCasCallArguments(
          argv,
          rows.map((i) => prepared[i]!),
          (p) => rowFields(p.view, generationOf.get(p.view.key)!),
        );
      }
      return { key: keys[rows[0]!]!, argv };
    });
    let replies: Reply[];
    try {
      replies = await this.runCas(calls);
    } finally {
      // Every key a call was sent for, whatever its outcome: an applied row changed it, and
      // a failed batch may have run on the server all the same. Redis reports each change on the invalidation
      // channel (tracking has no NOLOOP), but that arrives a moment later; dropping the keys
      // here gives read-your-writes in this process as soon as the write returns.
      if (this.cache) for (const p of prepared) this.cache.invalidate(p.redisKey);
    }
    const codes = new Array<number>(prepared.length);
    const generationOfRow = new Array<number>(prepared.length);
    groups.forEach((rows, c) => {
      const rowCodes = replies[c]![1] as number[];
      rows.forEach((i, n) => {
        const input = sent ? sent[i]!.input : i;
        const code = rowCodes[n]!;
        // The first generation's answer, unless a later one found the row corrupt: a corrupt
        // row in any generation is reported (dead-lettered by the consumer) rather than hidden.
        if (codes[input] === undefined || code === CAS_CORRUPT) {
          codes[input] = code;
          generationOfRow[input] = sent
            ? sent[i]!.generation
            : generationOf.get(prepared[i]!.view.key)!;
        }
      });
    });
    const report: WriteReport = { rows: [], applied: 0, stale: 0, concurrent: 0, corrupt: 0 };
    codes.forEach((code, i) => {
      const p = prepared[i]!;
      const outcome: WriteOutcome =
        code === CAS_CORRUPT ? "corrupt" : (code & 1) === 1 ? "applied" : "stale";
      const concurrent = code !== CAS_CORRUPT && (code & 2) === 2;
      report.rows.push({
        index: p.index,
        outcome,
        concurrent,
        generation: generationOfRow[i]!,
      });
      report[outcome]++;
      if (concurrent) report.concurrent++;
    });
    this.counters.applied += report.applied;
    this.counters.stale += report.stale;
    this.counters.concurrent += report.concurrent;
    this.counters.corrupt += report.corrupt;
    return report;
  }

  /**
   * Reads features (`view:feature`, `view@2:feature`, or resolved references) for entity rows.
   * Names are resolved against `registry`, default the one served now; resolved references
   * carry their registry's views.
   */
  read(
    entities: readonly Record<string, unknown>[],
    features: readonly string[] | readonly ResolvedFeatureRef[],
    registry: FeatureRegistry = this.registry,
  ): Promise<ReadResult> {
    const refs =
      typeof features[0] === "string"
        ? registry.resolveRefs(features as string[])
        : (features as readonly ResolvedFeatureRef[]);
    return readFeatures(this.readContext, entities, refs);
  }

  /** Reads the features of a feature service, pinned to the majors the service names. */
  readService(
    entities: readonly Record<string, unknown>[],
    service: string,
    registry: FeatureRegistry = this.registry,
  ): Promise<ReadResult> {
    return readFeatures(this.readContext, entities, registry.service(service));
  }

  /** The generation a view major serves now. */
  async activeGeneration(viewRef: string): Promise<number> {
    const view = this.registry.viewByRef(viewRef);
    return (await this.generations.active([view.key])).get(view.key)!;
  }

  /**
   * Where live records go while backfills run: view major -> every generation its rows must be
   * written into (the active one and the backfill's). One HGETALL; views not listed go to
   * their active generation.
   */
  async writingGenerations(): Promise<Map<string, number[]>> {
    let entries: Record<string, string>;
    try {
      entries = await this.client.hgetall(backfillKeys.writing(this.project));
    } catch (error) {
      throw unavailable(error);
    }
    const generations = new Map<string, number[]>();
    for (const [viewKey, text] of Object.entries(entries)) {
      const list = parseGenerationList(text);
      if (list.length > 0) generations.set(viewKey, list);
    }
    return generations;
  }

  /** Flips a view major to another generation: one SET, seen by readers as all-old or all-new. */
  async activateGeneration(viewRef: string, generation: number): Promise<void> {
    await this.generations.activate(this.registry.viewByRef(viewRef).key, generation);
  }

  /** CLIENT ID of the invalidation subscriber on each node (diagnostics; tests kill them). */
  invalidationSubscriberIds(): Map<string, number | undefined> {
    return this.tracking?.subscriberIds() ?? new Map<string, number | undefined>();
  }

  /** Whether cache invalidation is armed on every node (the cache holds nothing otherwise). */
  get invalidationArmed(): boolean {
    return this.tracking?.armed ?? false;
  }

  stats(): OnlineStoreStats {
    return { cache: this.cache?.stats(), ...this.counters };
  }

  /** Stops invalidation (and drops the cache). Does not close the Redis client: the caller owns it. */
  close(): Promise<void> {
    this.tracking?.stop();
    this.cache?.flush();
    // A promise, so that closing can grow asynchronous work without changing its callers.
    return Promise.resolve();
  }

  private async targetGenerations(
    prepared: readonly PreparedWrite[],
    explicit: number | undefined,
  ): Promise<Map<string, number>> {
    const viewKeys = [...new Set(prepared.map((p) => p.view.key))];
    if (explicit !== undefined) {
      checkGeneration(explicit);
      return new Map(viewKeys.map((key) => [key, explicit]));
    }
    return this.generations.active(viewKeys);
  }

  /** EVALSHA for every call; calls whose server lost the script are re-sent once with EVAL. */
  private async runCas(calls: KeyedCommand[]): Promise<Reply[]> {
    const replies = await execLargeBatch(this.client, calls).catch((error: unknown) => {
      throw unavailable(error);
    });
    const reload = calls.map((_, i) => i).filter((i) => isNoScript(replies[i]![0]));
    if (reload.length > 0) {
      this.counters.scriptReloads += reload.length;
      const retried = await execLargeBatch(
        this.client,
        reload.map((i) => ({ key: calls[i]!.key, argv: CAS_SCRIPT.asEval(calls[i]!.argv) })),
      ).catch((error: unknown) => {
        throw unavailable(error);
      });
      reload.forEach((i, n) => (replies[i] = retried[n]!));
    }
    const failed = replies.find(([error]) => error !== null);
    if (failed) {
      const message = failed[0]!.message;
      // A script error ("ERR ... script ...", a bug of ours) is not Redis being unavailable.
      throw /^ERR\b.*script/i.test(message)
        ? new StrataError(
            "STRATA_E_SCRIPT_FAILED",
            `the CAS script failed: ${message}`,
            {},
            { cause: failed[0] },
          )
        : unavailable(failed[0]);
    }
    return replies;
  }
}

function checkGeneration(generation: number): void {
  if (!Number.isSafeInteger(generation) || generation < 0) {
    throw new StrataError(
      "STRATA_E_BAD_ROW",
      `generation ${generation} is not a non-negative integer`,
      { generation },
    );
  }
}

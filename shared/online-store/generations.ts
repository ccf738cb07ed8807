import { StrataError } from "../errors.js";
import type { HotCache } from "../hot-cache/hot-cache.js";
import type { CacheEntry, PointerEntry } from "./cache-entries.js";
import { execBatch, type RedisClient } from "./pipeline.js";
import { generationPointerKey, INITIAL_GENERATION } from "./redis-layout.js";

/**
 * The active generation of each view major, read through the hot cache like any other
 * key: a pointer flip (one SET) reaches every reader through its invalidation, and until
 * then readers keep reading one whole generation, never a mix.
 */
export class Generations {
  /** Pointer key names, built once per view rather than on every read. */
  private readonly pointerKeys = new Map<string, string>();

  constructor(
    private readonly client: RedisClient,
    private readonly project: string,
    private readonly cache: HotCache<CacheEntry> | undefined,
    private readonly now: () => number,
  ) {}

  private pointerKey(viewKey: string): string {
    let key = this.pointerKeys.get(viewKey);
    if (key === undefined)
      this.pointerKeys.set(viewKey, (key = generationPointerKey(this.project, viewKey)));
    return key;
  }

  /** The cached active generation, without I/O; undefined when it must be fetched. */
  peek(viewKey: string): number | undefined {
    const entry = this.cache?.peek(this.pointerKey(viewKey));
    return entry?.kind === "pointer" ? entry.generation : undefined;
  }

  /** The pointer as last read before Redis became unreachable, for reads Redis cannot answer. */
  fallback(viewKey: string): PointerEntry | undefined {
    const entry = this.cache?.fallbackGet(this.pointerKey(viewKey));
    return entry?.kind === "pointer" ? entry : undefined;
  }

  /** The active generation of each view: cached pointers as they are, the rest in one batch. */
  async active(viewKeys: readonly string[]): Promise<Map<string, number>> {
    const known = new Map<string, number>();
    const unknown: string[] = [];
    for (const key of viewKeys) {
      const generation = this.peek(key);
      if (generation === undefined) unknown.push(key);
      else known.set(key, generation);
    }
    if (unknown.length > 0)
      for (const [key, generation] of await this.fetch(unknown)) known.set(key, generation);
    return known;
  }

  /** Reads the pointers of these views from Redis (one batch) and caches them. */
  async fetch(viewKeys: readonly string[]): Promise<Map<string, number>> {
    const keys = viewKeys.map((viewKey) => this.pointerKey(viewKey));
    const tickets = this.cache ? keys.map((key) => this.cache!.beginFetch(key)) : [];
    const replies = await execBatch(
      this.client,
      keys.map((key) => ({ key, argv: ["get", key] })),
    ).catch((error: unknown) => {
      for (const ticket of tickets) this.cache!.abandon(ticket);
      throw unavailable(error);
    });
    const failed = replies.find(([error]) => error !== null);
    if (failed) {
      for (const ticket of tickets) this.cache!.abandon(ticket);
      throw unavailable(failed[0]);
    }
    const generations = new Map<string, number>();
    const fetchedAtMs = this.now();
    replies.forEach(([, value], i) => {
      const generation = value === null ? INITIAL_GENERATION : Number(value);
      generations.set(viewKeys[i]!, generation);
      // Always admitted: every read needs its pointer, and there are only a few of them.
      if (this.cache)
        this.cache.fill(tickets[i]!, { kind: "pointer", generation, fetchedAtMs }, undefined, true);
    });
    return generations;
  }

  /** Makes `generation` the one every reader sees, atomically (one SET of one key). */
  async activate(viewKey: string, generation: number): Promise<void> {
    const key = this.pointerKey(viewKey);
    try {
      await this.client.set(key, String(generation));
    } finally {
      // Redis' invalidation of our own flip comes through the subscriber, a moment later:
      // readers of this process see the flip as soon as it returns. Also when it failed
      // here, since the SET may still have run there.
      this.cache?.invalidate(key);
    }
  }
}

export function unavailable(error: unknown): StrataError {
  const message = error instanceof Error ? error.message : String(error);
  return new StrataError(
    "STRATA_E_REDIS_UNAVAILABLE",
    `Redis did not answer: ${message}`,
    {},
    { cause: error },
  );
}

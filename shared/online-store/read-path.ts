import type { StrataError } from "../errors.js";
import { encodeEntityKey, entityRedisKey } from "../key-codec.js";
import type { HotCache, FetchTicket } from "../hot-cache/hot-cache.js";
import type { ResolvedFeatureRef, ResolvedView } from "../registry/feature-registry.js";
import { eventTsOfEncoded } from "../versions/version.js";
// Aggregation views have one generation and no pointer (backfills refuse them).
import { AGGREGATION_GENERATION } from "../aggregations/redis-fields.js";
import {
  aggregatePlan,
  foldAggregates,
  type AggregateAnswer,
  type AggregatePlan,
} from "./aggregate-read.js";
import { mergeEntries, type CacheEntry, type CachedRow } from "./cache-entries.js";
import { unavailable, type Generations } from "./generations.js";
import { execBatch, type RedisClient, type Reply } from "./pipeline.js";
import { rowFields, type RowFields } from "./redis-layout.js";

/** Feast's per-value statuses. */
export type FeatureStatus = "PRESENT" | "NOT_FOUND" | "NULL_VALUE" | "OUTSIDE_MAX_AGE";

/** The answer for one entity row, one slot per requested feature, in request order. */
export interface EntityResult {
  values: unknown[];
  statuses: FeatureStatus[];
  /** Event time (ms) of the row each value came from; null when not found. */
  eventTimestamps: (number | null)[];
  /**
   * Each value's JSON text as Redis stored it, where it is JSON already (numbers, numeric
   * lists, booleans; see ValueCodec.json): the serving tier writes these verbatim rather than
   * formatting the numbers again. Undefined where the value must be formatted.
   */
  jsonTexts: (string | undefined)[];
}

/** An entity row answered, at least in part, from the degraded-read fallback. */
export interface DegradedRow {
  /** Its index in the request's entity rows. */
  row: number;
  /** How long ago the oldest value (or generation pointer) it used was read from Redis, in ms. */
  ageMs: number;
}

export interface ReadResult {
  features: readonly ResolvedFeatureRef[];
  rows: EntityResult[];
  /**
   * The entity rows (ascending) that Redis could not answer and that came from the fallback:
   * what the hot cache held when it lost invalidation, and what reads returned since. Possibly
   * stale; each value was read from Redis at most `degradedMaxStalenessMs` ago, and never older
   * than one this process already returned for the key. Absent when no row is degraded. (When
   * the fallback cannot answer a row within that bound, the read fails with
   * STRATA_E_REDIS_UNAVAILABLE instead.)
   */
  degraded?: DegradedRow[];
}

/** The requested features of one view major, and where each goes in the answer. */
interface ViewGroup {
  view: ResolvedView;
  /** Output positions and feature indexes, pairwise. */
  outputs: number[];
  featureIndexes: number[];
}

/** Rows of one entity hash that Redis must supply, and who waits for them. */
interface Miss {
  /** The missing view rows of this entity hash: their view and field names. */
  parts: { view: ResolvedView; fields: RowFields }[];
  waiting: { row: number; group: number; part: number }[];
  /**
   * The aggregation view groups read from this hash (never from the hot cache: see
   * docs/aggregations.md, "The hot cache"), asked for in the same HMGET after `parts`.
   */
  aggregateGroups: number[];
  aggregateWaiting: { row: number; group: number }[];
}

export interface ReadContext {
  client: RedisClient;
  /** The store's project: every entity key is in it. Views come from the resolved references. */
  project: string;
  generations: Generations;
  /** Undefined: every read goes to Redis. */
  entityCache: HotCache<CacheEntry> | undefined;
  now: () => number;
  /** The oldest (since read from Redis) a degraded read may serve a value; 0: never degraded. */
  degradedMaxStalenessMs: number;
}

/**
 * Reads features for a batch of entity rows: each (entity, view) answered from the hot
 * cache when it can be, the rest with one HMGET per entity hash (every field of every
 * missing view of that entity at once) in one pipeline per server.
 */
export async function readFeatures(
  ctx: ReadContext,
  entityRows: readonly Record<string, unknown>[],
  refs: readonly ResolvedFeatureRef[],
): Promise<ReadResult> {
  const groups = groupByView(refs);
  // Pointers are almost always cached: skip the await (and its microtask hops) when they are.
  let generations = cachedGenerations(ctx, groups);
  /** Set when the pointers came from the fallback: every row is degraded, at least this old. */
  let pointerAgeMs: number | undefined;
  if (!generations) {
    try {
      generations = await fetchGenerations(ctx, groups);
    } catch (error) {
      const fallback = fallbackGenerations(ctx, groups);
      if (!fallback) throw error;
      generations = fallback.generations;
      pointerAgeMs = fallback.ageMs;
    }
  }
  const now = ctx.now();
  const cache = ctx.entityCache;
  const rows = entityRows.map(() => emptyResult(refs.length));
  /** Per group: the fields of its aggregates at this read's time (aggregation views only). */
  const plans = groups.map((g) =>
    g.view.aggregation ? aggregatePlan(g.view, g.featureIndexes, now) : undefined,
  );
  /** Created at the first miss: a read the hot cache answers whole needs none. */
  let misses: Map<string, Miss> | undefined;

  for (let r = 0; r < entityRows.length; r++) {
    // Views of one entity set (several majors of a view, say) share the hash: encode its key
    // and look it up once per row, not once per view.
    let entitySet: string | undefined;
    let key = "";
    let entry: CacheEntry | undefined;
    let looked = false;
    for (let g = 0; g < groups.length; g++) {
      const view = groups[g]!.view;
      if (view.entitySet !== entitySet) {
        entitySet = view.entitySet;
        key = entityRedisKey(
          ctx.project,
          entitySet,
          encodeEntityKey(view.joinKeys, entityRows[r]!),
        );
        entry = undefined;
        looked = false;
      }
      if (plans[g] !== undefined) {
        // A window moves with the clock and every event changes a tile: always from Redis.
        misses ??= new Map();
        const miss = missOf(misses, key);
        if (!miss.aggregateGroups.includes(g)) miss.aggregateGroups.push(g);
        miss.aggregateWaiting.push({ row: r, group: g });
        continue;
      }
      if (!looked) {
        entry = cache?.get(key);
        looked = true;
      }
      const fields = rowFields(view, generations[g]!);
      const cached = entry?.kind === "entity" ? entry.rows.get(fields.cacheKey) : undefined;
      cache?.record(cached !== undefined);
      if (cached) {
        place(rows[r]!, groups[g]!, cached, now);
        continue;
      }
      misses ??= new Map();
      const miss = missOf(misses, key);
      let part = miss.parts.findIndex((p) => p.fields === fields);
      if (part < 0) part = miss.parts.push({ view, fields }) - 1;
      miss.waiting.push({ row: r, group: g, part });
    }
  }
  // The common read, every row from the hot cache with the pointers it holds, is done here
  // without allocating the bookkeeping a miss or a degraded row needs.
  if (misses === undefined && pointerAgeMs === undefined) return { features: refs, rows };
  /** Age of each degraded row, by row index. */
  const degraded = new Map<number, number>();
  if (misses !== undefined) {
    const failed = await fetchMisses(ctx, misses, groups, plans, rows, now);
    if (failed && !fillFromFallback(ctx, failed.keys, misses, groups, rows, now, degraded))
      throw failed.error;
  }
  if (pointerAgeMs !== undefined) {
    for (let r = 0; r < rows.length; r++)
      degraded.set(r, Math.max(degraded.get(r) ?? 0, pointerAgeMs));
  }
  if (degraded.size === 0) return { features: refs, rows };
  return {
    features: refs,
    rows,
    degraded: [...degraded].sort(([a], [b]) => a - b).map(([row, ageMs]) => ({ row, ageMs })),
  };
}

function missOf(misses: Map<string, Miss>, key: string): Miss {
  let miss = misses.get(key);
  if (!miss) {
    misses.set(key, (miss = { parts: [], waiting: [], aggregateGroups: [], aggregateWaiting: [] }));
  }
  return miss;
}

/**
 * Reads the missing rows and places them. Returns the keys Redis did not answer (all of them
 * when the batch failed; on a cluster, those of the nodes that failed), and the error.
 */
async function fetchMisses(
  ctx: ReadContext,
  misses: Map<string, Miss>,
  groups: ViewGroup[],
  plans: (AggregatePlan | undefined)[],
  rows: EntityResult[],
  now: number,
): Promise<{ keys: string[]; error: StrataError } | undefined> {
  const keys = [...misses.keys()];
  const cache = ctx.entityCache;
  // Only view rows are cached: a hash read for aggregates alone takes no ticket.
  const tickets: (FetchTicket | undefined)[] = cache
    ? keys.map((key) => (misses.get(key)!.parts.length > 0 ? cache.beginFetch(key) : undefined))
    : [];
  const commands = keys.map((key) => {
    const argv: string[] = ["hmget", key];
    const miss = misses.get(key)!;
    for (const { fields } of miss.parts) argv.push(fields.version, ...fields.features);
    for (const g of miss.aggregateGroups) argv.push(...plans[g]!.fields);
    return { key, argv };
  });
  let replies: Reply[];
  try {
    replies = await execBatch(ctx.client, commands);
  } catch (error) {
    for (const ticket of tickets) if (ticket) cache!.abandon(ticket);
    return { keys, error: unavailable(error) };
  }
  const failedKeys: string[] = [];
  let firstError: Error | undefined;
  keys.forEach((key, k) => {
    const [error, reply] = replies[k]!;
    if (error) {
      if (tickets[k]) cache!.abandon(tickets[k]);
      failedKeys.push(key);
      firstError ??= error;
      return;
    }
    const miss = misses.get(key)!;
    const values = reply as (string | null)[];
    const decoded: CachedRow[] = [];
    let offset = 0;
    for (const { view } of miss.parts) {
      decoded.push(decodeRow(view, values, offset, now));
      offset += 1 + view.features.length;
    }
    if (cache && tickets[k]) {
      const byPrefix = new Map(miss.parts.map((p, i) => [p.fields.cacheKey, decoded[i]!]));
      cache.fill(tickets[k], { kind: "entity", rows: byPrefix }, mergeEntries);
    }
    for (const w of miss.waiting) place(rows[w.row]!, groups[w.group]!, decoded[w.part]!, now);
    if (miss.aggregateGroups.length === 0) return;
    const answers = new Map<number, AggregateAnswer[]>();
    for (const g of miss.aggregateGroups) {
      answers.set(g, foldAggregates(plans[g]!, values, offset));
      offset += plans[g]!.fields.length;
    }
    for (const w of miss.aggregateWaiting) {
      placeAggregates(rows[w.row]!, groups[w.group]!, answers.get(w.group)!);
    }
  });
  return failedKeys.length > 0 ? { keys: failedKeys, error: unavailable(firstError) } : undefined;
}

function decodeRow(
  view: ResolvedView,
  fields: (string | null)[],
  offset: number,
  fetchedAtMs: number,
): CachedRow {
  const version = fields[offset] ?? null;
  if (version === null)
    return { version: null, eventTsMs: 0, fetchedAtMs, values: [], jsonTexts: [] };
  const count = view.features.length;
  const values = new Array<unknown>(count);
  const jsonTexts = new Array<string | undefined>(count);
  for (let i = 0; i < count; i++) {
    const text = fields[offset + 1 + i];
    // A field missing from an existing row: a feature a later minor version added.
    if (text === null || text === undefined) continue;
    const codec = view.features[i]!.codec;
    values[i] = codec.decode(text);
    jsonTexts[i] = codec.json(text);
  }
  return { version, eventTsMs: eventTsOfEncoded(version), fetchedAtMs, values, jsonTexts };
}

function place(result: EntityResult, group: ViewGroup, row: CachedRow, now: number): void {
  const stale = row.version !== null && now - row.eventTsMs > group.view.maxAgeMs;
  for (let i = 0; i < group.outputs.length; i++) {
    const out = group.outputs[i]!;
    const feature = group.featureIndexes[i]!;
    const value = row.version === null ? undefined : row.values[feature];
    if (value === undefined) continue; // stays NOT_FOUND
    result.values[out] = value;
    result.jsonTexts[out] = row.jsonTexts[feature];
    result.eventTimestamps[out] = row.eventTsMs;
    result.statuses[out] = value === null ? "NULL_VALUE" : stale ? "OUTSIDE_MAX_AGE" : "PRESENT";
  }
}

/**
 * Aggregates as any feature: NOT_FOUND for an entity that never had an event, NULL_VALUE for a
 * null (mean, min, max over an empty window), else PRESENT; the event time is the entity's
 * watermark. Never OUTSIDE_MAX_AGE: the window bounds how old the events it counts are.
 */
function placeAggregates(result: EntityResult, group: ViewGroup, answers: AggregateAnswer[]): void {
  for (let i = 0; i < group.outputs.length; i++) {
    const { text, watermarkMs } = answers[i]!;
    if (text === undefined) continue; // stays NOT_FOUND
    const out = group.outputs[i]!;
    const codec = group.view.features[group.featureIndexes[i]!]!.codec;
    const value = codec.decode(text);
    result.values[out] = value;
    result.jsonTexts[out] = codec.json(text);
    result.eventTimestamps[out] = watermarkMs;
    result.statuses[out] = value === null ? "NULL_VALUE" : "PRESENT";
  }
}

function emptyResult(width: number): EntityResult {
  return {
    values: new Array<unknown>(width).fill(null),
    statuses: new Array<FeatureStatus>(width).fill("NOT_FOUND"),
    eventTimestamps: new Array<number | null>(width).fill(null),
    jsonTexts: new Array<string | undefined>(width),
  };
}

const groupsByRefs = new WeakMap<readonly ResolvedFeatureRef[], ViewGroup[]>();

/** The requested features grouped by view; cached per resolved list (the registry reuses them). */
function groupByView(refs: readonly ResolvedFeatureRef[]): ViewGroup[] {
  let groups = groupsByRefs.get(refs);
  if (!groups) groupsByRefs.set(refs, (groups = buildGroups(refs)));
  return groups;
}

function buildGroups(refs: readonly ResolvedFeatureRef[]): ViewGroup[] {
  const groups: ViewGroup[] = [];
  refs.forEach((ref, out) => {
    let group = groups.find((g) => g.view === ref.view);
    if (!group) groups.push((group = { view: ref.view, outputs: [], featureIndexes: [] }));
    group.outputs.push(out);
    group.featureIndexes.push(ref.index);
  });
  return groups;
}

function cachedGenerations(ctx: ReadContext, groups: ViewGroup[]): number[] | undefined {
  const generations = new Array<number>(groups.length);
  for (let i = 0; i < groups.length; i++) {
    if (groups[i]!.view.aggregation) {
      generations[i] = AGGREGATION_GENERATION;
      continue;
    }
    const generation = ctx.generations.peek(groups[i]!.view.key);
    if (generation === undefined) return undefined;
    generations[i] = generation;
  }
  return generations;
}

async function fetchGenerations(ctx: ReadContext, groups: ViewGroup[]): Promise<number[]> {
  const fetched = await ctx.generations.active(
    groups.filter((g) => !g.view.aggregation).map((g) => g.view.key),
  );
  return groups.map((g) =>
    g.view.aggregation ? AGGREGATION_GENERATION : fetched.get(g.view.key)!,
  );
}

/**
 * Pointers from the fallback, when Redis cannot be asked: all of them, with the age of the
 * oldest, or undefined when one is missing or older than the bound.
 */
function fallbackGenerations(
  ctx: ReadContext,
  groups: ViewGroup[],
): { generations: number[]; ageMs: number } | undefined {
  if (ctx.degradedMaxStalenessMs <= 0) return undefined;
  const now = ctx.now();
  const generations: number[] = [];
  let ageMs = 0;
  for (const group of groups) {
    if (group.view.aggregation) {
      generations.push(AGGREGATION_GENERATION);
      continue;
    }
    const pointer = ctx.generations.fallback(group.view.key);
    if (pointer === undefined) return undefined;
    const age = Math.max(0, now - pointer.fetchedAtMs);
    if (age > ctx.degradedMaxStalenessMs) return undefined;
    ageMs = Math.max(ageMs, age);
    generations.push(pointer.generation);
  }
  return { generations, ageMs };
}

/**
 * Answers the misses of every failed key from the fallback, or none (returns false): a read is
 * whole or fails. A row older than the bound counts as missing. Records each degraded row's age.
 */
function fillFromFallback(
  ctx: ReadContext,
  failedKeys: readonly string[],
  misses: Map<string, Miss>,
  groups: ViewGroup[],
  rows: EntityResult[],
  now: number,
  degraded: Map<number, number>,
): boolean {
  const cache = ctx.entityCache;
  if (!cache || ctx.degradedMaxStalenessMs <= 0) return false;
  const found: [Miss, CachedRow[], number][] = [];
  for (const key of failedKeys) {
    const miss = misses.get(key)!;
    // Aggregates are never cached, so a hash they need cannot be answered without Redis.
    if (miss.aggregateGroups.length > 0) return false;
    const entry = cache.fallbackGet(key);
    if (entry?.kind !== "entity") return false;
    const cachedRows: CachedRow[] = [];
    let ageMs = 0;
    for (const part of miss.parts) {
      const row = entry.rows.get(part.fields.cacheKey);
      if (row === undefined) return false;
      const age = Math.max(0, now - row.fetchedAtMs);
      if (age > ctx.degradedMaxStalenessMs) return false;
      ageMs = Math.max(ageMs, age);
      cachedRows.push(row);
    }
    found.push([miss, cachedRows, ageMs]);
  }
  for (const [miss, cachedRows, ageMs] of found) {
    for (const w of miss.waiting) {
      place(rows[w.row]!, groups[w.group]!, cachedRows[w.part]!, now);
      degraded.set(w.row, Math.max(degraded.get(w.row) ?? 0, ageMs));
    }
  }
  return true;
}

import calculateSlot from "cluster-key-slot";
import { execBatch, type RedisClient } from "../online-store/pipeline.js";
import { waitUntilReady } from "../online-store/redis-ready.js";
import {
  generationPointerKey,
  INITIAL_GENERATION,
  rowFields,
} from "../online-store/redis-layout.js";
import { scanMasters } from "../online-store/scan.js";
import type { FeatureRegistry, ResolvedView } from "../registry/feature-registry.js";
import { SlotDigests } from "./slot-digest.js";

/** One region to compare: a name for reports, and a client of its Redis (standalone or cluster). */
export interface Region {
  name: string;
  client: RedisClient;
}

/**
 * SCAN's COUNT hint: larger than the checksum's, since a whole keyspace is walked and every
 * call is a round trip; the HMGET pipeline of a batch grows with it.
 */
const SCAN_COUNT = 5_000;

/** HMGETs in flight at once per region: enough to overlap the next SCAN with the replies. */
const IN_FLIGHT = 4;

/**
 * One region's digests of every view major: per view, a SlotDigests table of (entity key,
 * stored version) in the view's active generation. Computed in one SCAN of each entity set,
 * with one pipelined HMGET of the version fields of all its views per key; the slot of a key
 * is computed here from its hash tag (cluster-key-slot), so a standalone Redis gets the same
 * slots a cluster would. Values are not read: they are what repair reads, for divergent keys
 * only.
 *
 * Keeps the entity keys it saw (SCAN may return a key twice, and a sum must count it once),
 * which the key-level drill-down reads back instead of scanning again: fine for millions of
 * keys, not for billions.
 */
export class RegionDigest {
  /** view key → its table. */
  readonly digests = new Map<string, SlotDigests>();
  /** view key → the generation whose rows were digested. */
  readonly generations = new Map<string, number>();
  /** entity set → every key of it the scan saw. */
  private readonly keys = new Map<string, Set<string>>();
  /** Distinct entity hashes read. */
  keysScanned = 0;

  private constructor(readonly region: Region) {}

  static async compute(
    region: Region,
    registry: FeatureRegistry,
    views: readonly ResolvedView[],
    onKeys?: (keysScanned: number) => void,
  ): Promise<RegionDigest> {
    const digest = new RegionDigest(region);
    await waitUntilReady(region.client, 10_000);
    const generations = await activeGenerations(region.client, registry.project, views);
    for (const [viewKey, generation] of generations) digest.generations.set(viewKey, generation);
    for (const [entitySet, setViews] of byEntitySet(views)) {
      await digest.scanEntitySet(registry.project, entitySet, setViews, onKeys);
    }
    return digest;
  }

  /** The table of a view (empty when the view holds no row here). */
  of(viewKey: string): SlotDigests {
    let table = this.digests.get(viewKey);
    if (!table) this.digests.set(viewKey, (table = new SlotDigests()));
    return table;
  }

  /** The keys of an entity set this region holds in the given slots. */
  keysInSlots(entitySet: string, slots: ReadonlySet<number>): string[] {
    const found: string[] = [];
    for (const key of this.keys.get(entitySet) ?? []) {
      if (slots.has(calculateSlot(key))) found.push(key);
    }
    return found;
  }

  private async scanEntitySet(
    project: string,
    entitySet: string,
    views: readonly ResolvedView[],
    onKeys?: (keysScanned: number) => void,
  ): Promise<void> {
    const seen = new Set<string>();
    this.keys.set(entitySet, seen);
    const fields = views.map((view) => rowFields(view, this.generations.get(view.key)!).version);
    const tables = views.map((view) => this.of(view.key));
    const inFlight: Promise<void>[] = [];
    for await (const batch of scanMasters(
      this.region.client,
      `fs:{${project}:${entitySet}:*`,
      SCAN_COUNT,
    )) {
      const fresh = batch.filter((key) => !seen.has(key) && seen.add(key));
      if (fresh.length === 0) continue;
      const pending = execBatch(
        this.region.client,
        fresh.map((key) => ({ key, argv: ["hmget", key, ...fields] })),
      ).then((replies) => {
        replies.forEach(([error, reply], i) => {
          if (error) throw error;
          const key = fresh[i]!;
          const versions = reply as (string | null)[];
          let slot = -1;
          for (let v = 0; v < versions.length; v++) {
            const version = versions[v];
            if (version === null || version === undefined) continue;
            if (slot < 0) slot = calculateSlot(key);
            tables[v]!.add(slot, key, version);
          }
        });
        this.keysScanned += fresh.length;
        onKeys?.(this.keysScanned);
      });
      // Handled here too, so that a failure while an earlier batch is awaited is not unhandled.
      pending.catch(() => undefined);
      inFlight.push(pending);
      if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    }
    await Promise.all(inFlight);
  }
}

/** The active generation of each view in one region (its pointer, or generation 0). */
export async function activeGenerations(
  client: RedisClient,
  project: string,
  views: readonly ResolvedView[],
): Promise<Map<string, number>> {
  const replies = await execBatch(
    client,
    views.map((view) => {
      const key = generationPointerKey(project, view.key);
      return { key, argv: ["get", key] };
    }),
  );
  const generations = new Map<string, number>();
  replies.forEach(([error, value], i) => {
    if (error) throw error;
    generations.set(views[i]!.key, value === null ? INITIAL_GENERATION : Number(value));
  });
  return generations;
}

export function byEntitySet(views: readonly ResolvedView[]): Map<string, ResolvedView[]> {
  const groups = new Map<string, ResolvedView[]>();
  for (const view of views) {
    const group = groups.get(view.entitySet) ?? [];
    group.push(view);
    groups.set(view.entitySet, group);
  }
  return groups;
}

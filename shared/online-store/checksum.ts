import { createHash } from "node:crypto";
import type { FeatureRegistry, ResolvedView } from "../registry/feature-registry.js";
import { execBatch, type RedisClient } from "./pipeline.js";
import { generationPointerKey, INITIAL_GENERATION, rowFields } from "./redis-layout.js";
import { waitUntilReady } from "./redis-ready.js";
import { scanMasters } from "./scan.js";

/** The content of one view major in one Redis: how many rows, and a digest of all of them. */
export interface ViewChecksum {
  view: string;
  rows: number;
  sha256: string;
}

const BATCH = 1_000;

/**
 * A per-view checksum of a region's online state: for every entity that has a row of the
 * view major (in its active generation), the entity key, the row's version and its values,
 * in key order, hashed. Two regions (or a region and its replay) that serve the same
 * values give the same checksums. Generation numbers are left out (a rebuilt region may
 * number them differently), and so is the clock vector: it is conflict-detection metadata
 * that compaction may legitimately shrink, not something a reader sees.
 *
 * Holds every entity key of an entity set in memory while hashing (SCAN may return a key
 * twice, and the digest needs one order): fine for millions of keys, not for billions.
 */
export async function regionChecksum(
  client: RedisClient,
  registry: FeatureRegistry,
): Promise<ViewChecksum[]> {
  // A fail-fast client refuses commands until connected, and a cluster lists no masters before.
  await waitUntilReady(client, 10_000);
  const byEntitySet = new Map<string, ResolvedView[]>();
  for (const view of registry.views()) {
    const views = byEntitySet.get(view.entitySet) ?? [];
    views.push(view);
    byEntitySet.set(view.entitySet, views);
  }
  const checksums: ViewChecksum[] = [];
  for (const [entitySet, views] of byEntitySet) {
    const keys = await scanKeys(client, `fs:{${registry.project}:${entitySet}:*`);
    for (const view of views) checksums.push(await viewChecksum(client, registry, view, keys));
  }
  return checksums.sort((a, b) => (a.view < b.view ? -1 : a.view > b.view ? 1 : 0));
}

/** The views whose checksums differ between two states, described; empty when equal. */
export function diffChecksums(a: readonly ViewChecksum[], b: readonly ViewChecksum[]): string[] {
  const differences: string[] = [];
  const other = new Map(b.map((c) => [c.view, c]));
  for (const mine of a) {
    const theirs = other.get(mine.view);
    if (!theirs) differences.push(`${mine.view}: missing on the right`);
    else if (mine.sha256 !== theirs.sha256) {
      differences.push(
        `${mine.view}: ${mine.rows} rows (${mine.sha256.slice(0, 12)}) vs ${theirs.rows} rows (${theirs.sha256.slice(0, 12)})`,
      );
    }
    other.delete(mine.view);
  }
  for (const view of other.keys()) differences.push(`${view}: missing on the left`);
  return differences;
}

async function viewChecksum(
  client: RedisClient,
  registry: FeatureRegistry,
  view: ResolvedView,
  keys: readonly string[],
): Promise<ViewChecksum> {
  const pointer = await client.get(generationPointerKey(registry.project, view.key));
  const generation = pointer === null ? INITIAL_GENERATION : Number(pointer);
  const fields = rowFields(view, generation);
  const hash = createHash("sha256");
  let rows = 0;
  for (let start = 0; start < keys.length; start += BATCH) {
    const slice = keys.slice(start, start + BATCH);
    const replies = await execBatch(
      client,
      slice.map((key) => ({ key, argv: ["hmget", key, fields.version, ...fields.features] })),
    );
    replies.forEach(([error, reply], i) => {
      if (error) throw error;
      const [version, ...values] = reply as (string | null)[];
      if (version === null || version === undefined) return;
      rows++;
      // Length-prefixed, so that no value can imitate a field boundary.
      for (const text of [slice[i]!, version, ...values.map((v) => v ?? "\u0000null")]) {
        hash.update(`${text.length}:`).update(text);
      }
    });
  }
  return { view: view.key, rows, sha256: hash.digest("hex") };
}

/** Every key matching the pattern, from every master, deduplicated and sorted. */
async function scanKeys(client: RedisClient, pattern: string): Promise<string[]> {
  const keys = new Set<string>();
  for await (const batch of scanMasters(client, pattern)) for (const key of batch) keys.add(key);
  return [...keys].sort();
}

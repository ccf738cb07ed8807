// The floor of a reconciliation digest: raw ioredis SCAN of every region in parallel with the
// same SCAN COUNT as the digest, and a pipelined HMGET of the same version field, no digest.
import type { Redis } from "ioredis";
import { INITIAL_GENERATION, rowFields } from "../shared/online-store/redis-layout.js";
import type { FeatureRegistry, ResolvedView } from "../shared/registry/index.js";

/** Seconds to read the version field of every key of `view` in every region; checks the count. */
export async function scanVersionsFloor(
  clients: readonly Redis[],
  registry: FeatureRegistry,
  view: ResolvedView,
  expectedRows: number,
): Promise<number> {
  const field = rowFields(view, INITIAL_GENERATION).version;
  const pattern = `fs:{${registry.project}:${view.entitySet}:*`;
  const started = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      let cursor = "0";
      let versions = 0;
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 5_000);
        cursor = next;
        const pipeline = client.pipeline();
        for (const key of keys) pipeline.hmget(key, field);
        for (const [, value] of (await pipeline.exec()) ?? []) {
          if ((value as (string | null)[])[0] !== null) versions++;
        }
      } while (cursor !== "0");
      if (versions !== expectedRows) {
        throw new Error(`floor read ${versions} versions, not ${expectedRows}`);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

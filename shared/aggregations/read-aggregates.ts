import { entityRedisKey } from "../key-codec.js";
import { execBatch, type RedisClient } from "../online-store/pipeline.js";
import type { ResolvedAggregation } from "../registry/aggregation-view.js";
import type { ResolvedAggregationView } from "../registry/feature-registry.js";
import { computeAggregates, type AggregateRow } from "./compute.js";
import { aggregateFields } from "./read-plan.js";

/**
 * Reads the aggregates of some entities at `nowMs`: one HMGET per entity (pipelined, split per
 * node on a cluster) of the watermark and every tile of the asked aggregations' windows.
 * `entityKeys` are encoded entity keys (shared/key-codec.ts); `aggregations` defaults to all of
 * the view's. Rows come back in the order of `entityKeys`.
 */
export async function readAggregates(
  redis: RedisClient,
  project: string,
  view: ResolvedAggregationView,
  entityKeys: readonly string[],
  nowMs: number,
  aggregations: readonly ResolvedAggregation[] = view.aggregation.aggregations,
): Promise<AggregateRow[]> {
  const fields = aggregateFields(view.key, aggregations, nowMs);
  const commands = entityKeys.map((encoded) => {
    const key = entityRedisKey(project, view.entitySet, encoded);
    return { key, argv: ["hmget", key, ...fields] };
  });
  const replies = await execBatch(redis, commands);
  return replies.map(([error, result]) => {
    if (error) throw error;
    return computeAggregates(aggregations, result as (string | null)[]);
  });
}

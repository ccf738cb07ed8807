import type { Admin } from "kafkajs";
import { consumerGroupId } from "../changelog/changelog-consumer.js";
import { retryRetriable } from "../changelog/kafka-errors.js";
import { execBatch, type RedisClient } from "../online-store/pipeline.js";
import { fieldPrefix } from "../online-store/redis-layout.js";
import { scanMasters } from "../online-store/scan.js";
import type { ResolvedView } from "../registry/feature-registry.js";
import type { TopicOffsets } from "./state.js";

/**
 * Whether the region's consumer has committed every record before `end` in each topic: then
 * no chunk that read the writing generations before they changed can still write (a chunk's
 * records were fetched before the change, so they lie before `end`, and a chunk commits only
 * after Redis accepted it). A topic the group never committed on has no consumer writing it.
 */
export async function consumerPassed(
  admin: Admin,
  project: string,
  region: string,
  end: TopicOffsets,
): Promise<boolean> {
  const groupId = consumerGroupId(project, region);
  for (const [topic, ends] of Object.entries(end)) {
    const committed = await retryRetriable(() => admin.fetchOffsets({ groupId, topics: [topic] }));
    const byPartition = new Map(
      committed[0]?.partitions.map((p) => [String(p.partition), BigInt(p.offset)]) ?? [],
    );
    for (const [partition, last] of Object.entries(ends)) {
      const offset = byPartition.get(partition) ?? -1n;
      if (offset >= 0n && offset < BigInt(last)) return false;
    }
  }
  return true;
}

/**
 * Deletes one generation of a view major from every entity hash of its entity set (SCAN on every
 * master of a cluster): its features, version and clock fields. Returns the hashes touched.
 */
export async function deleteGeneration(
  client: RedisClient,
  project: string,
  view: ResolvedView,
  generation: number,
): Promise<number> {
  const prefix = fieldPrefix(view.key, generation);
  const fields = [...view.features.map((f) => prefix + f.name), `${prefix}_v`, `${prefix}_cv`];
  let touched = 0;
  for await (const keys of scanMasters(client, `fs:{${project}:${view.entitySet}:*`, 2_000)) {
    const replies = await execBatch(
      client,
      keys.map((key) => ({ key, argv: ["hdel", key, ...fields] })),
    );
    for (const [error, removed] of replies) {
      if (error) throw error;
      if (Number(removed) > 0) touched++;
    }
  }
  return touched;
}

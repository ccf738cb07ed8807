import type { Admin } from "kafkajs";
import {
  DEFAULT_TOPIC_CONFIG,
  fitToCluster,
  replicatedTopic,
  type ChangelogTopicConfig,
} from "../changelog/topics.js";

/** The project's published registry: `strata.<project>.registry` (one partition, compacted). */
export function registryTopic(project: string): string {
  return `strata.${project}.registry`;
}

/**
 * Region `sourceRegion`'s registry topic as MirrorMaker 2 carries it into another region
 * (`<source>.strata.<project>.registry`), the same policy as the changelog's copies.
 */
export function replicatedRegistryTopic(project: string, sourceRegion: string): string {
  return replicatedTopic(sourceRegion, registryTopic(project));
}

/**
 * The prefix of the consumer groups registry readers use (`<prefix><uuid>`, one per reader,
 * nothing committed, deleted on stop): what the platforms' Kafka grants name for them.
 */
export function registryReaderGroupPrefix(project: string): string {
  return `strata.${project}.registry-reader.`;
}

/** The local registry topic and each peer's copy, local first. */
export function registryTopics(project: string, peerRegions: readonly string[] = []): string[] {
  return [
    registryTopic(project),
    ...peerRegions.map((peer) => replicatedRegistryTopic(project, peer)),
  ];
}

/**
 * Settings of a registry topic. Compacted and never deleted by age: every record's key is its
 * own (version, region, hash), so compaction only drops an identical re-publication and the
 * topic keeps the whole apply history, which readers fold in offset order.
 */
export function registryTopicSettings(minInSyncReplicas: number): Record<string, string> {
  return {
    "cleanup.policy": "compact",
    "min.insync.replicas": String(minInSyncReplicas),
    "message.timestamp.type": "CreateTime",
  };
}

/**
 * Creates, where missing, the project's registry topic and the copies of the given peers'
 * registry topics (so that a follower subscribed to a copy sees the first record MirrorMaker 2
 * carries into it). One partition each: the order of a registry log is its offset order.
 * Replicas as the changelog's (`config`), lowered to the broker count on a small cluster.
 * Returns the topics created.
 */
export async function ensureRegistryTopics(
  admin: Admin,
  project: string,
  options: { peerRegions?: readonly string[]; config?: ChangelogTopicConfig } = {},
): Promise<string[]> {
  const wanted = registryTopics(project, options.peerRegions);
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((topic) => !existing.has(topic));
  if (missing.length === 0) return [];
  const brokers = (await admin.describeCluster()).brokers.length;
  const { config } = fitToCluster(options.config ?? DEFAULT_TOPIC_CONFIG, brokers);
  const settings = registryTopicSettings(config.minInSyncReplicas);
  await admin
    .createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: 1,
        replicationFactor: config.replicationFactor,
        configEntries: Object.entries(settings).map(([name, value]) => ({ name, value })),
      })),
    })
    .catch((error: unknown) => {
      // Another process (or MirrorMaker 2) created it between our list and create.
      if ((error as { type?: string }).type !== "TOPIC_ALREADY_EXISTS") throw error;
    });
  return missing;
}

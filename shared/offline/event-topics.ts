import type { Admin } from "kafkajs";
import { fitToCluster, type ChangelogTopicConfig } from "../changelog/topics.js";
import type { FeatureRegistry } from "../registry/index.js";

/** The project's aggregation events topic (CONTRACTS.md): pushed events of aggregation views. */
export function aggregationEventsTopic(project: string): string {
  return `strata.${project}.events`;
}

/**
 * The topics whose records are aggregation events the projector writes to event tables: the
 * events topic when the registry has aggregation views fed by pushes.
 */
export function offlineEventTopics(project: string, registry: FeatureRegistry): string[] {
  const pushed = registry.aggregationViews().some((v) => "push" in v.aggregation.source);
  return pushed ? [aggregationEventsTopic(project)] : [];
}

/**
 * Creates the events topic if it is missing (the changelog's partitions and replication,
 * deleted by age), so the projector can subscribe before anything was pushed to it.
 */
export async function ensureEventsTopic(
  admin: Admin,
  project: string,
  requested: ChangelogTopicConfig,
): Promise<boolean> {
  const topic = aggregationEventsTopic(project);
  if ((await admin.listTopics()).includes(topic)) return false;
  const brokers = (await admin.describeCluster()).brokers.length;
  const { config } = fitToCluster(requested, brokers);
  await admin
    .createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: config.partitions,
          replicationFactor: config.replicationFactor,
          configEntries: [
            { name: "cleanup.policy", value: "delete" },
            { name: "min.insync.replicas", value: String(config.minInSyncReplicas) },
          ],
        },
      ],
    })
    .catch((error: unknown) => {
      // Another process created it between our list and create.
      if ((error as { type?: string }).type !== "TOPIC_ALREADY_EXISTS") throw error;
    });
  return true;
}

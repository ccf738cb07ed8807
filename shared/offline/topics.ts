import type { Admin } from "kafkajs";
import { fitToCluster, type ChangelogTopicConfig } from "../changelog/topics.js";

/** The projector's output, the Iceberg sink's input: one topic per project and region. */
export function offlineTopic(project: string): string {
  return `strata.${project}.offline`;
}

/** The sink's control topic (its commit coordination), its own per connector. */
export function offlineControlTopic(project: string): string {
  return `strata.${project}.offline.control`;
}

/** The Kafka Connect connector that writes a project's offline tables. */
export function offlineConnectorName(project: string): string {
  return `strata-${project}-offline`;
}

/**
 * The consumer group Kafka Connect gives a sink connector's tasks (`connect-<name>`): the
 * Iceberg sink commits its source offsets there in the same transaction as its table
 * commits, so that group's offsets are exactly what the tables hold.
 */
export function offlineSinkGroupId(project: string): string {
  return `connect-${offlineConnectorName(project)}`;
}

/** How long the offline topic keeps records: the sink commits within its interval, this covers a long outage of it. */
export const OFFLINE_RETENTION_MS = 7 * 24 * 3_600_000;

/**
 * Creates the offline topic (the changelog's partitions and replication, deleted by age: the
 * tables are the history, not this topic) and the sink's control topic (one partition, as
 * the sink's coordinator reads it whole) if missing. Safe to call from every process.
 * Returns the topics it created.
 */
export async function ensureOfflineTopics(
  admin: Admin,
  project: string,
  requested: ChangelogTopicConfig,
): Promise<string[]> {
  const brokers = (await admin.describeCluster()).brokers.length;
  const { config } = fitToCluster(requested, brokers);
  const isr = { name: "min.insync.replicas", value: String(config.minInSyncReplicas) };
  const wanted = [
    {
      topic: offlineTopic(project),
      numPartitions: config.partitions,
      replicationFactor: config.replicationFactor,
      configEntries: [
        { name: "cleanup.policy", value: "delete" },
        { name: "retention.ms", value: String(OFFLINE_RETENTION_MS) },
        isr,
      ],
    },
    {
      topic: offlineControlTopic(project),
      numPartitions: 1,
      replicationFactor: config.replicationFactor,
      configEntries: [{ name: "cleanup.policy", value: "delete" }, isr],
    },
  ];
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return [];
  await admin.createTopics({ waitForLeaders: true, topics: missing }).catch((error: unknown) => {
    // Another process created it between our list and create: the idempotent case.
    if ((error as { type?: string }).type !== "TOPIC_ALREADY_EXISTS") throw error;
  });
  return missing.map((t) => t.topic);
}

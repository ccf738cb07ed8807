import kafkajs, { type Admin } from "kafkajs";
import { StrataError } from "../errors.js";
import {
  judgeReplication,
  topicReplicationFactor,
  type ReplicationCheck,
} from "./topic-replication.js";

/** How a project's changelog topics are created (docs/changelog.md, "Topics"). */
export interface ChangelogTopicConfig {
  /** Partitions of the changelog; the consumer group of a region scales up to this many members. */
  partitions: number;
  replicationFactor: number;
  /** With acks=all, a write is acknowledged once this many replicas have it. */
  minInSyncReplicas: number;
  /**
   * The reconciliation window: records younger than this are never compacted away, so
   * every write of the window stays in the log for audits and exact replays of the window
   * (min.compaction.lag.ms). Older history keeps only the latest record per key.
   */
  reconciliationWindowMs: number;
  /** How long the dead-letter topic keeps records (it is not compacted: every poison record matters). */
  deadLetterRetentionMs: number;
  /** An existing changelog with fewer replicas than the cluster could hold: refuse (default) or warn. */
  replicationCheck?: ReplicationCheck;
}

export const DEFAULT_TOPIC_CONFIG: ChangelogTopicConfig = {
  partitions: 12,
  replicationFactor: 3,
  minInSyncReplicas: 2,
  reconciliationWindowMs: 7 * 24 * 3_600_000,
  deadLetterRetentionMs: 30 * 24 * 3_600_000,
};

export function changelogTopic(project: string): string {
  return `strata.${project}.changelog`;
}

/**
 * The name under which a topic of region `sourceRegion` arrives in another region's Kafka:
 * MirrorMaker 2's DefaultReplicationPolicy prefixes the source cluster's alias and its
 * separator "." (`<source>.<topic>`), the source cluster's alias being the Strata region name
 * in every replication the stacks and the local stack declare. A prefixed copy never matches
 * the replicated pattern again, so no record loops back.
 */
export function replicatedTopic(sourceRegion: string, topic: string): string {
  return `${sourceRegion}.${topic}`;
}

/**
 * Region `sourceRegion`'s changelog as replicated into another region
 * (`<source>.strata.<project>.changelog`): the one derivation that the consumer, the stacks,
 * the fault tests and reconciliation use.
 */
export function replicatedChangelogTopic(project: string, sourceRegion: string): string {
  return replicatedTopic(sourceRegion, changelogTopic(project));
}

export function deadLetterTopic(project: string): string {
  return `strata.${project}.dlq`;
}

/** Topic-level settings of the changelog: compacted, never deleted by age. */
export function changelogTopicSettings(config: ChangelogTopicConfig): Record<string, string> {
  return {
    "cleanup.policy": "compact",
    "min.compaction.lag.ms": String(config.reconciliationWindowMs),
    "min.insync.replicas": String(config.minInSyncReplicas),
    // The producer's clock, so lag "produce to applied" measures what it says.
    "message.timestamp.type": "CreateTime",
  };
}

export function deadLetterTopicSettings(config: ChangelogTopicConfig): Record<string, string> {
  return {
    "cleanup.policy": "delete",
    "retention.ms": String(config.deadLetterRetentionMs),
    "min.insync.replicas": String(config.minInSyncReplicas),
  };
}

/**
 * Creates the project's changelog and dead-letter topics if they do not exist (safe to call
 * from every process at start-up), then checks that an existing changelog is compacted and
 * not deleted by age (a changelog that drops records cannot rebuild a region) and has the
 * replicas configured (judgeReplication).
 * Returns the names of the topics it created, and warnings about settings it had to lower.
 */
export async function ensureChangelogTopics(
  admin: Admin,
  project: string,
  requested: ChangelogTopicConfig,
): Promise<{ created: string[]; warnings: string[] }> {
  const brokers = (await admin.describeCluster()).brokers.length;
  const { config, warnings } = fitToCluster(requested, brokers);
  const wanted = [
    { topic: changelogTopic(project), settings: changelogTopicSettings(config) },
    { topic: deadLetterTopic(project), settings: deadLetterTopicSettings(config) },
  ];
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length > 0) {
    await admin
      .createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: config.partitions,
          replicationFactor: config.replicationFactor,
          configEntries: Object.entries(t.settings).map(([name, value]) => ({ name, value })),
        })),
      })
      .catch((error: unknown) => {
        // Another process created it between our list and create: that is the idempotent case.
        if ((error as { type?: string }).type !== "TOPIC_ALREADY_EXISTS") throw error;
      });
  }
  await checkChangelogSettings(admin, changelogTopic(project));
  warnings.push(
    ...judgeReplication({
      topic: changelogTopic(project),
      actual: await topicReplicationFactor(admin, changelogTopic(project)),
      configured: requested.replicationFactor,
      brokers,
      check: requested.replicationCheck ?? "refuse",
    }),
  );
  return { created: missing.map((t) => t.topic), warnings };
}

/**
 * A replication factor above the broker count cannot be created: on a small cluster (the
 * development stack has one broker) it is lowered to fit, and the caller is told so.
 */
export function fitToCluster(
  config: ChangelogTopicConfig,
  brokers: number,
): { config: ChangelogTopicConfig; warnings: string[] } {
  if (config.replicationFactor <= brokers) return { config, warnings: [] };
  const replicationFactor = Math.max(1, brokers);
  const minInSyncReplicas = Math.min(config.minInSyncReplicas, replicationFactor);
  return {
    config: { ...config, replicationFactor, minInSyncReplicas },
    warnings: [
      `the cluster has ${brokers} broker(s): changelog topics get replication factor ${replicationFactor} and min.insync.replicas ${minInSyncReplicas} instead of ${config.replicationFactor} and ${config.minInSyncReplicas}`,
    ],
  };
}

async function checkChangelogSettings(admin: Admin, topic: string): Promise<void> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [
      // kafkajs is CommonJS, and Node sees only some of its exports by name.
      { type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ["cleanup.policy"] },
    ],
  });
  const policy = described.resources[0]?.configEntries.find(
    (e) => e.configName === "cleanup.policy",
  )?.configValue;
  if (policy !== "compact") {
    throw new StrataError(
      "STRATA_E_BAD_TOPIC_CONFIG",
      `topic ${topic} has cleanup.policy=${policy ?? "(unknown)"}; a changelog must be "compact" alone, or records it needs to rebuild a region are deleted`,
      { topic, setting: "cleanup.policy", value: policy },
    );
  }
}

/**
 * Creates `topic` if it is missing, deleted by age (a transport, not a history): the
 * changelog's partitions and replication fitted to the cluster, `min.insync.replicas`, and
 * `extraConfig`. Safe to call from every process: a concurrent creation is the idempotent
 * case. Returns whether this call created it.
 */
export async function ensureDeleteTopic(
  admin: Admin,
  topic: string,
  requested: ChangelogTopicConfig,
  extraConfig: Record<string, string> = {},
): Promise<boolean> {
  if ((await admin.listTopics()).includes(topic)) return false;
  const brokers = (await admin.describeCluster()).brokers.length;
  const { config } = fitToCluster(requested, brokers);
  const settings: Record<string, string> = {
    "cleanup.policy": "delete",
    ...extraConfig,
    "min.insync.replicas": String(config.minInSyncReplicas),
  };
  return admin
    .createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: config.partitions,
          replicationFactor: config.replicationFactor,
          configEntries: Object.entries(settings).map(([name, value]) => ({ name, value })),
        },
      ],
    })
    .catch((error: unknown) => {
      if ((error as { type?: string }).type !== "TOPIC_ALREADY_EXISTS") throw error;
      return false;
    });
}

import type { Admin } from "kafkajs";
import { StrataError } from "../errors.js";

/**
 * What start-up does when the existing changelog has fewer replicas than configured while the
 * cluster has brokers enough for them (STRATA_CHANGELOG_REPLICATION_CHECK): `refuse` (the
 * default) fails start-up with STRATA_E_BAD_TOPIC_CONFIG, `warn` logs and carries on.
 */
export type ReplicationCheck = "refuse" | "warn";

/** The fewest replicas any partition of `topic` has, as the brokers describe it now. */
export async function topicReplicationFactor(admin: Admin, topic: string): Promise<number> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const partitions = topics[0]?.partitions ?? [];
  return partitions.length === 0 ? 0 : Math.min(...partitions.map((p) => p.replicas.length));
}

/**
 * Judges an existing changelog's replication factor. A topic is created with no more replicas
 * than there are brokers alive at the time, and nothing raises it later: a changelog created
 * while brokers were down keeps one copy of each record for good, and losing that broker loses
 * records no region can rebuild. Below what the cluster could hold now refuses start-up, or
 * warns when `check` is "warn". Returns the warnings.
 */
export function judgeReplication(options: {
  topic: string;
  actual: number;
  configured: number;
  brokers: number;
  check: ReplicationCheck;
}): string[] {
  const { topic, actual, configured, brokers, check } = options;
  if (actual >= configured) return [];
  // Fewer brokers than configured: nothing better is possible now, and fitToCluster warned.
  if (actual >= Math.min(configured, brokers)) return [];
  const message = `topic ${topic} has replication factor ${actual}, below the configured ${configured} though the cluster has ${brokers} brokers (it was created while brokers were missing): losing one broker can lose changelog records. Raise it with kafka-reassign-partitions (docs/changelog.md, "Topics")`;
  if (check === "warn") return [message];
  throw new StrataError("STRATA_E_BAD_TOPIC_CONFIG", message, {
    topic,
    setting: "replication factor",
    value: actual,
    configured,
    brokers,
  });
}

import {
  EnvReader,
  type KafkaAccess,
  type RedisAddress,
  type RegistrySourceConfig,
} from "../../shared/config/env.js";
import type { ChangelogTopicConfig } from "../../shared/changelog/topics.js";
import { DEFAULT_GRACE_MS } from "../../shared/backfill/index.js";

/** The coordinator's configuration from the environment (docs/backfill.md, "Configuration"). */
export interface BackfillConfig {
  /** STRATA_REPO, or STRATA_PROJECT's published registry (read once). */
  registry: RegistrySourceConfig;
  /** REDIS_URL or REDIS_CLUSTER_NODES: the region's Redis. */
  redis: RedisAddress;
  /** KAFKA_*: the region's Kafka (changelog, backfill topic, the consumer group's offsets). */
  kafka: KafkaAccess;
  /** STRATA_REGION: the region whose consumer applies live records. */
  region: string;
  /** STRATA_PEER_REGIONS: the peers whose changelog copies that consumer applies. */
  peerRegions: string[];
  topics: ChangelogTopicConfig;
  maxEventTimeSkewMs: number;
  /** STRATA_BACKFILL_GRACE_MS: how long after the flip gc may delete the old generation. */
  graceMs: number;
  /** STRATA_BACKFILL_DRAIN_TIMEOUT_MS: how long gc / abort wait per call for the consumer. */
  drainTimeoutMs: number;
}

export function loadBackfillConfig(env: NodeJS.ProcessEnv = process.env): BackfillConfig {
  const read = new EnvReader(env);
  const kafka = read.kafka(true)!;
  return {
    registry: read.registrySource(kafka),
    redis: read.redis(),
    kafka,
    region: read.region(),
    peerRegions: read.peerRegions(),
    topics: read.changelogTopics(),
    maxEventTimeSkewMs: read.maxEventTimeSkewMs(),
    graceMs: read.int("STRATA_BACKFILL_GRACE_MS", DEFAULT_GRACE_MS, 0, 30 * 24 * 3_600_000),
    drainTimeoutMs: read.int("STRATA_BACKFILL_DRAIN_TIMEOUT_MS", 30_000, 0, 3_600_000),
  };
}

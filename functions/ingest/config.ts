import type { ChangelogTopicConfig } from "../../shared/changelog/topics.js";
import {
  CONSUMER_DEFAULTS,
  DEFAULT_REGISTRY_WAIT_MS,
} from "../../shared/changelog/changelog-consumer.js";
import {
  EnvReader,
  type KafkaAccess,
  type RedisAddress,
  type RegistrySourceConfig,
} from "../../shared/config/env.js";
import { loadCdcConfig, type CdcConfig } from "./cdc-config.js";
import { loadOfflineConfig, type OfflineConfig } from "./offline-config.js";

export interface IngestConfig {
  /** The feature repo module (STRATA_REPO), or the published registry of STRATA_PROJECT, followed live. */
  registry: RegistrySourceConfig;
  /**
   * How long a chunk with records of a view the registry does not have (yet) waits for a newer
   * registry before dead-lettering them (STRATA_REGISTRY_WAIT_MS, default 10,000).
   */
  registryWaitMs: number;
  redis: RedisAddress;
  kafka: KafkaAccess;
  /** The region this consumer applies to; its consumer group is strata.<project>.<region>.apply. */
  region: string;
  /**
   * The other regions whose changelogs replication carries here (STRATA_PEER_REGIONS): the
   * consumer applies `<peer>.strata.<project>.changelog` of each besides its own changelog.
   */
  peerRegions: string[];
  topics: ChangelogTopicConfig;
  /** Records per CAS batch, committed after each (STRATA_INGEST_CHUNK, default 2,000). */
  chunkSize: number;
  /** Partitions applied in parallel (STRATA_INGEST_CONCURRENCY, default 3). */
  concurrency: number;
  /** A silent member loses its partitions after this (STRATA_INGEST_SESSION_TIMEOUT_MS, default 10,000; the broker allows 6,000 and up by default). */
  sessionTimeoutMs: number;
  /** Where /metrics, /health and /ready listen (STRATA_METRICS_HOST, STRATA_METRICS_PORT, default 0.0.0.0:9464). */
  metricsHost: string;
  metricsPort: number;
  /**
   * A Redis command unanswered after this fails its chunk, which is retried, and the connection
   * is replaced (STRATA_INGEST_REDIS_TIMEOUT_MS, default 5,000): a half-open connection would
   * otherwise hold the chunk until the group rebalanced.
   */
  redisTimeoutMs: number;
  /** Event times later than their produce time plus this are dead-lettered (STRATA_MAX_EVENT_TIME_SKEW_MS, default 300,000). */
  maxEventTimeSkewMs: number;
  /** How often consumer lag is read from the group's committed offsets (STRATA_LAG_POLL_MS, default 5,000). */
  lagPollMs: number;
  /** The offline store writer (STRATA_OFFLINE and friends, docs/offline-store.md). */
  offline: OfflineConfig;
  /** The CDC mapper (STRATA_CDC and friends, docs/sources.md). */
  cdc: CdcConfig;
}

/** The regional consumer's configuration, from the environment (docs/changelog.md). */
export function loadIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const read = new EnvReader(env);
  const kafka = read.kafka(true)!;
  return {
    registry: read.registrySource(kafka),
    registryWaitMs: read.int("STRATA_REGISTRY_WAIT_MS", DEFAULT_REGISTRY_WAIT_MS, 0, 600_000),
    redis: read.redis(),
    kafka,
    region: read.region(),
    peerRegions: read.peerRegions(),
    topics: read.changelogTopics(),
    chunkSize: read.int("STRATA_INGEST_CHUNK", CONSUMER_DEFAULTS.chunkSize, 1, 100_000),
    concurrency: read.int(
      "STRATA_INGEST_CONCURRENCY",
      CONSUMER_DEFAULTS.partitionsConsumedConcurrently,
      1,
      64,
    ),
    sessionTimeoutMs: read.int("STRATA_INGEST_SESSION_TIMEOUT_MS", 10_000, 1_000, 3_600_000),
    metricsHost: read.get("STRATA_METRICS_HOST") ?? "0.0.0.0",
    metricsPort: read.int("STRATA_METRICS_PORT", 9464, 0, 65535),
    lagPollMs: read.int("STRATA_LAG_POLL_MS", 5_000, 100, 600_000),
    redisTimeoutMs: read.int("STRATA_INGEST_REDIS_TIMEOUT_MS", 5_000, 100, 600_000),
    maxEventTimeSkewMs: read.maxEventTimeSkewMs(),
    offline: loadOfflineConfig(env),
    cdc: loadCdcConfig(env),
  };
}

import { readFileSync } from "node:fs";
import { DEFAULT_REPLICATION_TIMEOUT_MS } from "../../shared/changelog/changelog-writer.js";
import type { ChangelogTopicConfig } from "../../shared/changelog/topics.js";
import {
  badConfig,
  EnvReader,
  type KafkaAccess,
  type RedisAddress,
  type RegistrySourceConfig,
} from "../../shared/config/env.js";
import { readRegionTargets, type RegionTarget } from "../reconcile/config.js";
import type { ApiKeyRecord } from "./auth.js";
import { readDriftRecording, type DriftRecordingConfig } from "./drift-recording.js";

/** Request limits: every one configurable, every default safe for an inference endpoint. */
export interface ServeLimits {
  /** Largest request body in bytes (STRATA_MAX_BODY_BYTES, default 1 MiB). */
  maxBodyBytes: number;
  /** Most entity rows in one request (STRATA_MAX_ENTITIES, default 1,000). */
  maxEntities: number;
  /** Most features in one request (STRATA_MAX_FEATURES, default 500). */
  maxFeatures: number;
  /** Redis must answer a read within this, or the request is answered 504 (STRATA_REQUEST_TIMEOUT_MS, default 2,000). */
  requestTimeoutMs: number;
}

export interface ServeConfig {
  host: string;
  /** The feature API's port (STRATA_PORT): Feast's feature server port, 6566, by default. */
  port: number;
  /**
   * Where /health, /ready and /metrics listen, apart from the feature API so that nothing in
   * front of the public port exposes them (STRATA_ADMIN_HOST, default STRATA_HOST's value;
   * STRATA_ADMIN_PORT, default 9465).
   */
  admin: { host: string; port: number };
  /**
   * Where the registry comes from: the feature repo module STRATA_REPO (a compiled .js, or .ts
   * under tsx), or, without it, the published registry of STRATA_PROJECT, followed live.
   */
  registry: RegistrySourceConfig;
  redis: RedisAddress;
  /** API keys by their SHA-256; null when auth is explicitly off (STRATA_AUTH=off). */
  apiKeys: ApiKeyRecord[] | null;
  limits: ServeLimits;
  /** Hot cache entries (STRATA_CACHE_ENTRIES, default 100,000); 0 turns entity caching off. */
  cacheEntries: number;
  /**
   * While Redis is unreachable, serve (marked degraded) values read from Redis at most this
   * long ago (STRATA_DEGRADED_MAX_STALENESS_MS, default 60,000: the hot cache's safety TTL);
   * 0 answers 503 instead. Absent: that default.
   */
  degradedMaxStalenessMs?: number;
  /**
   * Estimated bytes the hot cache may hold (STRATA_CACHE_MAX_BYTES, default 256 MiB): requests
   * choose entity keys, and a string key can be as long as a body, so the entry count alone
   * does not bound the memory. Absent: that default.
   */
  cacheMaxBytes?: number;
  /** How long SIGTERM waits for in-flight requests before closing connections (STRATA_SHUTDOWN_GRACE_MS, default 10,000). */
  shutdownGraceMs: number;
  /** The write side (POST /push); absent when KAFKA_BROKERS is not set, and then pushes get 503. */
  changelog?: ServeChangelogConfig;
  /** Recording served values for drift detection; absent (off) unless STRATA_DRIFT_MONITOR is set. */
  drift?: DriftRecordingConfig;
  /**
   * GET /ready/feature-services/<name> answers 503 while the region's consumer has more records
   * than this left to apply (STRATA_READY_MAX_LAG_RECORDS, default 1,000).
   */
  readyMaxLagRecords?: number;
}

export interface ServeChangelogConfig {
  /** KAFKA_BROKERS, with KAFKA_TLS* and KAFKA_SASL_* (docs/changelog.md). */
  kafka: KafkaAccess;
  /** This region: the origin of the versions it writes (STRATA_REGION). */
  region: string;
  topics: ChangelogTopicConfig;
  /** Standard writes held in memory at most before pushes get 429 (STRATA_WRITE_QUEUE_MAX, default 100,000). */
  queueMaxRecords: number;
  /** Batch size and linger of standard writes (STRATA_WRITE_BATCH, default 1,000; STRATA_WRITE_LINGER_MS, default 5). */
  batchSize: number;
  lingerMs: number;
  /**
   * The deadline of every push that waits for Kafka (critical views, wait acked, applied or replicated):
   * without an acknowledgement by then it answers 503, and may still be written
   * (STRATA_ACK_TIMEOUT_MS, default 10,000).
   */
  ackTimeoutMs: number;
  /** Event times later than now plus this are refused (STRATA_MAX_EVENT_TIME_SKEW_MS, default 300,000). */
  maxEventTimeSkewMs?: number;
  /**
   * The other regions' Redis, read (never written) by pushes with `wait: "replicated"`
   * (STRATA_PEER_REDIS: `name=redis://host:port` or `name=cluster://host:port,...` items
   * separated by spaces or ';'). None: such pushes are refused (STRATA_E_NO_PEERS).
   */
  peers?: RegionTarget[];
  /**
   * How long a `wait: "replicated"` push waits for the peers after applying here, and the most
   * a push may ask for (STRATA_REPLICATION_TIMEOUT_MS, default 5,000).
   */
  replicationTimeoutMs?: number;
  /** STRATA_PEER_REGIONS: the peers whose changelog copies this region's consumer applies (readiness reads its lag). */
  peerRegionNames?: string[];
}

/** The hot cache's safety TTL: a degraded value is never older than a cached one can be. */
export const DEFAULT_DEGRADED_MAX_STALENESS_MS = 60_000;

/** The admin port's default: next to the consumer's 9464, so both can run on one host. */
export const DEFAULT_ADMIN_PORT = 9465;

/** The hot cache's default bound in estimated bytes. */
export const DEFAULT_CACHE_MAX_BYTES = 256 * 1024 * 1024;

export const DEFAULT_LIMITS: ServeLimits = {
  maxBodyBytes: 1024 * 1024,
  maxEntities: 1_000,
  maxFeatures: 500,
  requestTimeoutMs: 2_000,
};

/**
 * Reads the serving configuration from the environment. Every bad value fails start-up
 * with STRATA_E_BAD_CONFIG naming the variable and what it accepts.
 */
export function loadServeConfig(env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const read = new EnvReader(env);
  const kafka = read.kafka(false);
  const host = read.get("STRATA_HOST") ?? "0.0.0.0";
  const port = read.int("STRATA_PORT", 6566, 0, 65535);
  const adminPort = read.int("STRATA_ADMIN_PORT", DEFAULT_ADMIN_PORT, 0, 65535);
  if (adminPort === port && port !== 0) {
    throw badConfig("STRATA_ADMIN_PORT", String(adminPort), "a port other than STRATA_PORT");
  }
  return {
    host,
    port,
    admin: { host: read.get("STRATA_ADMIN_HOST") ?? host, port: adminPort },
    registry: read.registrySource(kafka),
    redis: read.redis(),
    apiKeys: apiKeys(env),
    limits: {
      maxBodyBytes: read.int(
        "STRATA_MAX_BODY_BYTES",
        DEFAULT_LIMITS.maxBodyBytes,
        1_024,
        64 * 1024 * 1024,
      ),
      maxEntities: read.int("STRATA_MAX_ENTITIES", DEFAULT_LIMITS.maxEntities, 1, 100_000),
      maxFeatures: read.int("STRATA_MAX_FEATURES", DEFAULT_LIMITS.maxFeatures, 1, 10_000),
      requestTimeoutMs: read.int(
        "STRATA_REQUEST_TIMEOUT_MS",
        DEFAULT_LIMITS.requestTimeoutMs,
        10,
        600_000,
      ),
    },
    cacheEntries: read.int("STRATA_CACHE_ENTRIES", 100_000, 0, 50_000_000),
    degradedMaxStalenessMs: read.int(
      "STRATA_DEGRADED_MAX_STALENESS_MS",
      DEFAULT_DEGRADED_MAX_STALENESS_MS,
      0,
      86_400_000,
    ),
    cacheMaxBytes: read.int(
      "STRATA_CACHE_MAX_BYTES",
      DEFAULT_CACHE_MAX_BYTES,
      1024 * 1024,
      2 ** 40,
    ),
    shutdownGraceMs: read.int("STRATA_SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
    drift: readDriftRecording(env),
    readyMaxLagRecords: read.int("STRATA_READY_MAX_LAG_RECORDS", 1_000, 0, 1_000_000_000),
    changelog: kafka && {
      kafka,
      region: read.region(),
      topics: read.changelogTopics(),
      queueMaxRecords: read.int("STRATA_WRITE_QUEUE_MAX", 100_000, 1, 10_000_000),
      batchSize: read.int("STRATA_WRITE_BATCH", 1_000, 1, 100_000),
      lingerMs: read.int("STRATA_WRITE_LINGER_MS", 5, 0, 60_000),
      ackTimeoutMs: read.int("STRATA_ACK_TIMEOUT_MS", 10_000, 100, 600_000),
      maxEventTimeSkewMs: read.maxEventTimeSkewMs(),
      peers: peerRegions(read),
      peerRegionNames: read.peerRegions(),
      replicationTimeoutMs: read.int(
        "STRATA_REPLICATION_TIMEOUT_MS",
        DEFAULT_REPLICATION_TIMEOUT_MS,
        100,
        600_000,
      ),
    },
  };
}

/** STRATA_PEER_REDIS: every other region's Redis, none of them named as this region. */
function peerRegions(read: EnvReader): RegionTarget[] {
  const peers = readRegionTargets(read, "STRATA_PEER_REDIS", 0);
  const own = read.region();
  if (peers.some((peer) => peer.name === own)) {
    throw badConfig(
      "STRATA_PEER_REDIS",
      read.get("STRATA_PEER_REDIS"),
      `other regions than this one (STRATA_REGION is ${own})`,
    );
  }
  return peers;
}

/**
 * API keys live in a JSON file (STRATA_API_KEYS_FILE) or variable (STRATA_API_KEYS), as
 * SHA-256 hashes only: `[{"id": "...", "sha256": "<64 hex>", "projects": [...], "featureServices": [...]}]`.
 * Auth is on unless STRATA_AUTH=off is set explicitly.
 */
function apiKeys(env: NodeJS.ProcessEnv): ApiKeyRecord[] | null {
  if (env.STRATA_AUTH === "off") return null;
  if (env.STRATA_AUTH !== undefined && env.STRATA_AUTH !== "on") {
    throw badConfig("STRATA_AUTH", env.STRATA_AUTH, '"on" (the default) or "off"');
  }
  let text = env.STRATA_API_KEYS;
  let source = "STRATA_API_KEYS";
  if (env.STRATA_API_KEYS_FILE) {
    source = "STRATA_API_KEYS_FILE";
    try {
      text = readFileSync(env.STRATA_API_KEYS_FILE, "utf8");
    } catch (error) {
      throw badConfig(
        source,
        env.STRATA_API_KEYS_FILE,
        `a readable file (${(error as Error).message})`,
      );
    }
  }
  if (!text) {
    throw badConfig(
      "STRATA_API_KEYS_FILE",
      undefined,
      "a JSON file of API key hashes (or STRATA_AUTH=off to serve without auth)",
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badConfig(source, "(not JSON)", "a JSON array of API key records");
  }
  if (!Array.isArray(parsed) || parsed.length === 0)
    throw badConfig(source, parsed, "a non-empty JSON array");
  return parsed.map((record: Partial<ApiKeyRecord>, i) => {
    if (
      typeof record?.id !== "string" ||
      typeof record.sha256 !== "string" ||
      !/^[0-9a-f]{64}$/.test(record.sha256)
    ) {
      throw badConfig(
        `${source}[${i}]`,
        record,
        'an object with "id" and "sha256" (64 lowercase hex digits)',
      );
    }
    for (const list of ["projects", "featureServices"] as const) {
      const value = record[list];
      if (
        value !== undefined &&
        !(Array.isArray(value) && value.every((v) => typeof v === "string"))
      ) {
        throw badConfig(`${source}[${i}].${list}`, value, "a list of names");
      }
    }
    if (record.push !== undefined && typeof record.push !== "boolean") {
      throw badConfig(`${source}[${i}].push`, record.push, "true or false");
    }
    return {
      id: record.id,
      sha256: record.sha256,
      projects: record.projects,
      featureServices: record.featureServices,
      push: record.push,
    };
  });
}

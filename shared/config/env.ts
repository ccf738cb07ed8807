import { show, StrataError } from "../errors.js";
import { DEFAULT_TOPIC_CONFIG, type ChangelogTopicConfig } from "../changelog/topics.js";
import { isValidRegion } from "../versions/version.js";

/** Where a process' Redis is: one standalone server (or a primary behind a proxy), or a cluster's seed nodes. */
export type RedisAddress = { url: string } | { clusterNodes: { host: string; port: number }[] };

/**
 * Reading configuration from the environment. Every bad value fails start-up with
 * STRATA_E_BAD_CONFIG naming the variable and what it accepts.
 */
export class EnvReader {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  get(name: string): string | undefined {
    const value = this.env[name];
    return value === "" ? undefined : value;
  }

  required(name: string, wanted: string): string {
    const value = this.get(name);
    if (value === undefined) throw badConfig(name, value, wanted);
    return value;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw badConfig(name, raw, `an integer from ${min} to ${max}`);
    }
    return value;
  }

  /** REDIS_CLUSTER_NODES (host:port,...) when set, else REDIS_URL. */
  redis(): RedisAddress {
    const nodesText = this.get("REDIS_CLUSTER_NODES");
    if (nodesText) {
      const nodes = nodesText.split(",").map((item) => {
        const match = /^(.+):(\d+)$/.exec(item.trim());
        if (!match) throw badConfig("REDIS_CLUSTER_NODES", nodesText, "host:port[,host:port...]");
        return { host: match[1]!.replace(/^\[|\]$/g, ""), port: Number(match[2]) };
      });
      return { clusterNodes: nodes };
    }
    const url = this.get("REDIS_URL");
    if (!url || !/^rediss?:\/\//.test(url)) {
      throw badConfig("REDIS_URL", url, "redis://host:port (or set REDIS_CLUSTER_NODES)");
    }
    return { url };
  }

  /** KAFKA_BROKERS as host:port,...; undefined when unset and not required. */
  kafkaBrokers(required: boolean): string[] | undefined {
    const text = this.get("KAFKA_BROKERS");
    if (text === undefined) {
      if (required) throw badConfig("KAFKA_BROKERS", text, "host:port[,host:port...]");
      return undefined;
    }
    const brokers = text.split(",").map((b) => b.trim());
    if (!brokers.every((b) => /^[^\s:]+:\d+$/.test(b))) {
      throw badConfig("KAFKA_BROKERS", text, "host:port[,host:port...]");
    }
    return brokers;
  }

  /** How the changelog topics are created (docs/changelog.md, "Topics"). */
  changelogTopics(): ChangelogTopicConfig {
    const d = DEFAULT_TOPIC_CONFIG;
    const day = 24 * 3_600_000;
    return {
      partitions: this.int("STRATA_CHANGELOG_PARTITIONS", d.partitions, 1, 10_000),
      replicationFactor: this.int("STRATA_CHANGELOG_REPLICATION", d.replicationFactor, 1, 7),
      minInSyncReplicas: this.int("STRATA_CHANGELOG_MIN_ISR", d.minInSyncReplicas, 1, 7),
      reconciliationWindowMs: this.int(
        "STRATA_RECONCILIATION_WINDOW_MS",
        d.reconciliationWindowMs,
        0,
        365 * day,
      ),
      deadLetterRetentionMs: this.int(
        "STRATA_DLQ_RETENTION_MS",
        d.deadLetterRetentionMs,
        3_600_000,
        365 * day,
      ),
    };
  }

  /** STRATA_REGION: the origin region written into versions, and the consumer group's name. */
  region(): string {
    const region = this.get("STRATA_REGION") ?? "local";
    if (!isValidRegion(region)) {
      throw badConfig("STRATA_REGION", region, "lowercase letters, digits and '-' (at most 63)");
    }
    return region;
  }
}

export function badConfig(variable: string, value: unknown, wanted: string): StrataError {
  return new StrataError(
    "STRATA_E_BAD_CONFIG",
    `${variable} is ${show(value)}; it must be ${wanted}`,
    { variable },
  );
}

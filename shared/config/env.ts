import { show, StrataError } from "../errors.js";
import { DEFAULT_TOPIC_CONFIG, type ChangelogTopicConfig } from "../changelog/topics.js";
import { DEFAULT_MAX_EVENT_TIME_SKEW_MS } from "../versions/event-time.js";
import { isValidRegion } from "../versions/version.js";

/** Where a process' Redis is: one standalone server (or a primary behind a proxy), or a cluster's seed nodes. */
export type RedisAddress = (
  { url: string } | { clusterNodes: { host: string; port: number }[] }
) & {
  /** TLS (REDIS_TLS=on, or a rediss:// URL), with a private CA (REDIS_TLS_CA_FILE). */
  tls?: { caFile?: string };
  /** AUTH / ACL user (REDIS_USERNAME, REDIS_PASSWORD). */
  username?: string;
  password?: string;
};

/** How a process reaches Kafka: brokers, TLS (KAFKA_TLS, KAFKA_TLS_*_FILE) and SASL (KAFKA_SASL_*). */
export interface KafkaAccess {
  brokers: string[];
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  sasl?: KafkaSasl;
}

/**
 * SASL with a user name and password (PLAIN, SCRAM), or Amazon MSK IAM: OAUTHBEARER tokens
 * signed with the process' AWS credentials for the cluster's region (AWS_REGION).
 */
export type KafkaSasl =
  | { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password: string }
  | { mechanism: "aws-msk-iam"; region: string };

const SASL_MECHANISMS = ["plain", "scram-sha-256", "scram-sha-512", "aws-msk-iam"] as const;

/**
 * Where a process' registry comes from: a feature repo file (STRATA_REPO, read once at start;
 * with STRATA_PROJECT too, the file must be of that project), or the project's published
 * registry (STRATA_PROJECT without STRATA_REPO), followed live through Kafka.
 */
export type RegistrySourceConfig =
  | { kind: "file"; path: string; project?: string }
  | {
      kind: "published";
      project: string;
      kafka: KafkaAccess;
      /** STRATA_REGION, and the peers whose registry copies are followed too (STRATA_PEER_REGIONS). */
      region?: string;
      peerRegions?: string[];
    };

/** What a project name is (the registry's identifier rule). */
const PROJECT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

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

  /** REDIS_CLUSTER_NODES (host:port,...) when set, else REDIS_URL; with TLS and credentials. */
  redis(): RedisAddress {
    const address = this.redisLocation();
    const tls = this.onOff("REDIS_TLS", "url" in address && address.url.startsWith("rediss://"));
    return {
      ...address,
      tls: tls ? { caFile: this.get("REDIS_TLS_CA_FILE") } : undefined,
      username: this.get("REDIS_USERNAME"),
      password: this.get("REDIS_PASSWORD"),
    };
  }

  /** KAFKA_BROKERS with TLS and SASL settings; undefined when KAFKA_BROKERS is unset and not required. */
  kafka(required: boolean): KafkaAccess | undefined {
    const brokers = this.kafkaBrokers(required);
    if (!brokers) return undefined;
    const access: KafkaAccess = { brokers };
    const mechanism = this.get("KAFKA_SASL_MECHANISM");
    if (mechanism !== undefined && !(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
      throw badConfig("KAFKA_SASL_MECHANISM", mechanism, SASL_MECHANISMS.join(", "));
    }
    // MSK serves IAM authentication on its TLS listener only: TLS defaults on, and off is refused.
    const iam = mechanism === "aws-msk-iam";
    if (iam && this.get("KAFKA_TLS") === "off") {
      throw badConfig("KAFKA_TLS", "off", '"on" with KAFKA_SASL_MECHANISM=aws-msk-iam');
    }
    if (this.onOff("KAFKA_TLS", iam)) {
      access.tls = {
        caFile: this.get("KAFKA_TLS_CA_FILE"),
        certFile: this.get("KAFKA_TLS_CERT_FILE"),
        keyFile: this.get("KAFKA_TLS_KEY_FILE"),
      };
    }
    if (iam) {
      access.sasl = {
        mechanism,
        region: this.awsRegion(
          "the AWS region of the MSK cluster (KAFKA_SASL_MECHANISM=aws-msk-iam)",
        ),
      };
    } else if (mechanism !== undefined) {
      access.sasl = {
        mechanism: mechanism as "plain" | "scram-sha-256" | "scram-sha-512",
        username: this.required("KAFKA_SASL_USERNAME", "the SASL user name"),
        password: this.required("KAFKA_SASL_PASSWORD", "the SASL password"),
      };
    }
    return access;
  }

  /** AWS_REGION, the AWS SDKs' own variable: signed requests name it, so it must look like one. */
  private awsRegion(wanted: string): string {
    const region = this.required("AWS_REGION", wanted);
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw badConfig("AWS_REGION", region, wanted);
    return region;
  }

  private onOff(name: string, fallback: boolean): boolean {
    const value = this.get(name);
    if (value === undefined) return fallback;
    if (value !== "on" && value !== "off") throw badConfig(name, value, '"on" or "off"');
    return value === "on";
  }

  private redisLocation(): { url: string } | { clusterNodes: { host: string; port: number }[] } {
    const nodesText = this.get("REDIS_CLUSTER_NODES");
    if (nodesText) return { clusterNodes: parseHostPorts(nodesText, "REDIS_CLUSTER_NODES") };
    const url = this.get("REDIS_URL");
    if (!url || !/^rediss?:\/\//.test(url)) {
      throw badConfig("REDIS_URL", url, "redis://host:port (or set REDIS_CLUSTER_NODES)");
    }
    return { url };
  }

  /** KAFKA_BROKERS as host:port,...; undefined when unset and not required. */
  private kafkaBrokers(required: boolean): string[] | undefined {
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
      replicationCheck: this.replicationCheck(),
    };
  }

  /** STRATA_CHANGELOG_REPLICATION_CHECK: refuse (default) or warn on an under-replicated changelog. */
  private replicationCheck(): "refuse" | "warn" {
    const value = this.get("STRATA_CHANGELOG_REPLICATION_CHECK") ?? "refuse";
    if (value !== "refuse" && value !== "warn") {
      throw badConfig(
        "STRATA_CHANGELOG_REPLICATION_CHECK",
        value,
        '"refuse" (the default) or "warn"',
      );
    }
    return value;
  }

  /**
   * STRATA_MAX_EVENT_TIME_SKEW_MS: how far past the clock a write's event time may be (default
   * 5 minutes); writers and consumers refuse later ones (STRATA_E_EVENT_TIME_IN_FUTURE).
   */
  maxEventTimeSkewMs(): number {
    return this.int(
      "STRATA_MAX_EVENT_TIME_SKEW_MS",
      DEFAULT_MAX_EVENT_TIME_SKEW_MS,
      0,
      366 * 24 * 3_600_000,
    );
  }

  /**
   * STRATA_PEER_REGIONS: the other regions whose changelogs are replicated into this region's
   * Kafka (`a,c`), each a region name as STRATA_REGION takes it, none twice and never this
   * region. Unset or empty: a lone region.
   */
  peerRegions(): string[] {
    const text = this.get("STRATA_PEER_REGIONS");
    if (text === undefined || text.trim() === "") return [];
    const wanted =
      "the other regions' names, comma-separated, each lowercase letters, digits and '-' (at most 63), each once, and not STRATA_REGION";
    const self = this.region();
    const peers = text.split(",").map((item) => item.trim());
    const seen = new Set<string>();
    for (const peer of peers) {
      if (!isValidRegion(peer) || peer === self || seen.has(peer)) {
        const why =
          peer === self
            ? `; "${peer}" is this region (STRATA_REGION)`
            : seen.has(peer)
              ? `; "${peer}" is named twice`
              : "";
        throw badConfig("STRATA_PEER_REGIONS", text, wanted + why);
      }
      seen.add(peer);
    }
    return peers;
  }

  /**
   * STRATA_REPO when set (a feature repo file), else STRATA_PROJECT's published registry, which
   * is read from Kafka (`kafka`: the process' KAFKA_BROKERS access, required then), with the
   * copies of STRATA_PEER_REGIONS' registries (docs/registry.md).
   */
  registrySource(kafka: KafkaAccess | undefined): RegistrySourceConfig {
    const path = this.get("STRATA_REPO");
    const project = this.get("STRATA_PROJECT");
    if (project !== undefined && !PROJECT_NAME.test(project)) {
      throw badConfig(
        "STRATA_PROJECT",
        project,
        "a project name (letters, digits and _, not starting with a digit)",
      );
    }
    if (path !== undefined) return { kind: "file", path, ...(project ? { project } : {}) };
    if (project === undefined) {
      throw badConfig(
        "STRATA_REPO",
        path,
        "the path of the feature repo module, or set STRATA_PROJECT to follow the project's published registry",
      );
    }
    if (!kafka) {
      throw badConfig(
        "KAFKA_BROKERS",
        undefined,
        `host:port[,host:port...]: following the published registry of STRATA_PROJECT=${project} reads it from Kafka`,
      );
    }
    const peerRegions = this.peerRegions();
    return {
      kind: "published",
      project,
      kafka,
      ...(peerRegions.length > 0 ? { region: this.region(), peerRegions } : {}),
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

/** `host:port,host:port` (IPv6 hosts in brackets) as seed nodes; `variable` names it in the error. */
export function parseHostPorts(text: string, variable: string): { host: string; port: number }[] {
  return text.split(",").map((item) => {
    const match = /^(.+):(\d+)$/.exec(item.trim());
    if (!match) throw badConfig(variable, text, "host:port[,host:port...]");
    return { host: match[1]!.replace(/^\[|\]$/g, ""), port: Number(match[2]) };
  });
}

export function badConfig(variable: string, value: unknown, wanted: string): StrataError {
  return new StrataError(
    "STRATA_E_BAD_CONFIG",
    `${variable} is ${show(value)}; it must be ${wanted}`,
    { variable },
  );
}

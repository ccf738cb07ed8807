/**
 * A region stack's configuration: `Pulumi.<stack>.yaml` under the `strata:` namespace. Parsed
 * and validated before any resource is declared; a wrong or missing value stops the program
 * with a message that names the key and what it accepts.
 */
import { parseCdc, type CdcConfig } from "./cdc/config.js";
import { parsePeers, parseReconcileSchedule, type PeerRegion } from "./peers.js";
import { MIRROR_MAKER_IMAGE } from "./replication.js";
import { parseWorkloads, type WorkloadsConfig } from "./workloads-config.js";

export const CLOUDS = ["aws", "azure", "kubernetes"] as const;
export type Cloud = (typeof CLOUDS)[number];

export interface RedisSizing {
  /** Shards (node groups / primaries). */
  shards: number;
  /** Replicas of each shard's primary. */
  replicasPerShard: number;
  /** Node size: an ElastiCache node type, an Azure Premium family size (P1..P5), or a pod memory request. */
  nodeSize: string;
}

export interface KafkaSizing {
  /** Partitions of the changelog: the most consumers a region can use. */
  partitions: number;
  /** Broker nodes (MSK, Strimzi). */
  brokers: number;
  /** Processing units of an Event Hubs Premium namespace (Azure). */
  throughputUnits: number;
  /** The broker instance type (MSK) or the per-broker storage size (Strimzi). */
  brokerSize: string;
}

export interface ServingSizing {
  /** The serving container image (functions/serve/Dockerfile), which also runs the consumer. */
  image: string;
  minReplicas: number;
  maxReplicas: number;
  /** vCPUs per serving container (0.25 to 4). */
  cpu: number;
  /** MiB per serving container. */
  memoryMiB: number;
  /** Consumer replicas: at most the changelog's partitions do work. */
  consumerReplicas: number;
}

export type NetworkConfig =
  | { mode: "create"; cidr: string }
  | {
      mode: "existing";
      /** AWS VPC id, Azure virtual network id, or (Kubernetes) unused. */
      networkId: string;
      /** Private subnets (AWS: at least two zones), or the Azure subnets: apps, then private endpoints. */
      subnetIds: string[];
    };

export interface AwsOptions {
  /** ACM certificate of the serving tier's TLS listener. */
  certificateArn: string;
  /** Availability zones to spread over (at least two). */
  zones: number;
  logRetentionDays: number;
}

export interface AzureOptions {
  logRetentionDays: number;
}

export interface KubernetesOptions {
  /** Install the Strimzi operator with Helm (from `strimziChart`), or assume it runs. */
  installStrimzi: boolean;
  /** Where Helm finds the Strimzi chart (an OCI reference or chart repository URL). */
  strimziChart?: string;
  /** Declare a ServiceMonitor (the Prometheus operator runs in the cluster). */
  prometheusOperator: boolean;
  /** Secret (type kubernetes.io/tls) with the serving tier's certificate for Envoy. */
  tlsSecretName: string;
  /** Secret with the Redis Cluster's certificate (tls.crt, tls.key, ca.crt). */
  redisTlsSecretName: string;
  storageClass?: string;
  /** Images of the Redis and Envoy containers. */
  redisImage: string;
  envoyImage: string;
}

export interface StackConfig extends WorkloadsConfig {
  cloud: Cloud;
  /** The cloud region (or on-prem site) this stack runs in; also the Strata region name. */
  region: string;
  /** The Strata project (feature repo) the region serves. */
  project: string;
  redis: RedisSizing;
  kafka: KafkaSizing;
  serving: ServingSizing;
  network: NetworkConfig;
  aws?: AwsOptions;
  azure?: AzureOptions;
  kubernetes?: KubernetesOptions;
  /** The other regions this one replicates from (`strata:peers`); empty for a lone region. */
  peers: PeerRegion[];
  /** Five-field UTC cron of the reconcile job, declared only when there are peers. */
  reconcileSchedule: string;
  /** The MirrorMaker 2 image where no managed replicator fits (on AWS it must carry aws-msk-iam-auth). */
  mirrorMakerImage: string;
  /**
   * The metrics collector's image: ADOT (AWS, a sidecar), Prometheus in agent mode (Azure, a
   * sidecar), Prometheus (Kubernetes without the Prometheus operator).
   */
  collectorImage: string;
  /** Debezium's databases and tables (`strata:cdc`); absent: no CDC pieces at all. */
  cdc?: CdcConfig;
}

/** The collector image of each cloud when `strata:collectorImage` is not set. */
export const COLLECTOR_IMAGES: Record<Cloud, string> = {
  aws: "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3",
  azure: "quay.io/prometheus/prometheus:v2.53.4",
  kubernetes: "quay.io/prometheus/prometheus:v2.53.4",
};

/** A configuration error: names the key and what it accepts. Thrown before any resource exists. */
export class StackConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`strata:${key} ${message}`);
    this.name = "StackConfigError";
  }
}

/** What a config source gives: raw values by key (objects already parsed from YAML). */
export type RawConfig = Record<string, unknown>;

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const PROJECT = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export function parseStackConfig(raw: RawConfig): StackConfig {
  const cloud = oneOf("cloud", raw.cloud, CLOUDS);
  const region = string(
    "region",
    raw.region,
    NAME,
    "a region name (lowercase letters, digits, '-')",
  );
  const project = string("project", raw.project, PROJECT, "a Strata project name (an identifier)");
  const redisRaw = object("redis", raw.redis);
  const kafkaRaw = object("kafka", raw.kafka);
  const servingRaw = object("serving", raw.serving);
  const redis: RedisSizing = {
    shards: int("redis.shards", redisRaw.shards, 1, 500),
    replicasPerShard: int("redis.replicasPerShard", redisRaw.replicasPerShard, 0, 5),
    nodeSize: string("redis.nodeSize", redisRaw.nodeSize, /^\S+$/, "a node size"),
  };
  const kafka: KafkaSizing = {
    partitions: int("kafka.partitions", kafkaRaw.partitions, 1, 10_000),
    brokers: int("kafka.brokers", kafkaRaw.brokers ?? 3, 1, 100),
    throughputUnits: int("kafka.throughputUnits", kafkaRaw.throughputUnits ?? 1, 1, 16),
    brokerSize: string(
      "kafka.brokerSize",
      kafkaRaw.brokerSize ?? "kafka.m7g.large",
      /^\S+$/,
      "a broker size",
    ),
  };
  const serving: ServingSizing = {
    image: string("serving.image", servingRaw.image, /^\S+$/, "a container image reference"),
    minReplicas: int("serving.minReplicas", servingRaw.minReplicas, 1, 1_000),
    maxReplicas: int("serving.maxReplicas", servingRaw.maxReplicas, 1, 1_000),
    cpu: number("serving.cpu", servingRaw.cpu ?? 1, 0.25, 4),
    memoryMiB: int("serving.memoryMiB", servingRaw.memoryMiB ?? 2_048, 512, 30_720),
    consumerReplicas: int("serving.consumerReplicas", servingRaw.consumerReplicas ?? 1, 1, 1_000),
  };
  if (serving.maxReplicas < serving.minReplicas) {
    throw new StackConfigError(
      "serving.maxReplicas",
      `is ${serving.maxReplicas}; it must be at least serving.minReplicas (${serving.minReplicas})`,
    );
  }
  const peers = parsePeers(raw.peers, region, cloud);
  const kubernetes = cloud === "kubernetes" ? kubernetesOptions(raw.kubernetes) : undefined;
  const config: StackConfig = {
    cloud,
    region,
    project,
    redis,
    kafka,
    serving,
    network: network(raw.network),
    peers,
    reconcileSchedule: parseReconcileSchedule(raw.reconcileSchedule),
    mirrorMakerImage: string(
      "mirrorMakerImage",
      raw.mirrorMakerImage ?? MIRROR_MAKER_IMAGE,
      /^\S+$/,
      "a container image with Kafka's connect-mirror-maker.sh",
    ),
    collectorImage: string(
      "collectorImage",
      raw.collectorImage ?? COLLECTOR_IMAGES[cloud],
      /^\S+$/,
      "a container image reference",
    ),
    ...parseWorkloads(
      { offline: raw.offline, drift: raw.drift, functions: raw.functions },
      {
        cloud,
        region,
        peered: peers.length > 0,
        prometheusOperator: kubernetes?.prometheusOperator ?? false,
      },
    ),
  };
  const cdc = parseCdc(raw.cdc, cloud);
  if (cdc) config.cdc = cdc;
  if (cloud === "aws") config.aws = awsOptions(raw.aws, config);
  if (cloud === "azure") config.azure = azureOptions(raw.azure, config);
  if (kubernetes) config.kubernetes = kubernetes;
  return config;
}

function network(value: unknown): NetworkConfig {
  const raw = value === undefined ? { mode: "create" } : object("network", value);
  const mode = oneOf("network.mode", raw.mode ?? "create", ["create", "existing"] as const);
  if (mode === "create") {
    return {
      mode,
      cidr: string(
        "network.cidr",
        raw.cidr ?? "10.40.0.0/16",
        /^\d+\.\d+\.\d+\.\d+\/(1[6-9]|2[0-4])$/,
        "an IPv4 CIDR from /16 to /24",
      ),
    };
  }
  const subnetIds = raw.subnetIds;
  if (
    !Array.isArray(subnetIds) ||
    subnetIds.length < 2 ||
    !subnetIds.every((s) => typeof s === "string" && s !== "")
  ) {
    throw new StackConfigError(
      "network.subnetIds",
      `is ${show(subnetIds)}; with network.mode "existing" it must list at least two subnet ids`,
    );
  }
  return {
    mode,
    networkId: string("network.networkId", raw.networkId, /^\S+$/, "the existing network's id"),
    subnetIds: subnetIds as string[],
  };
}

function awsOptions(value: unknown, config: StackConfig): AwsOptions {
  const raw = object("aws", value);
  const options: AwsOptions = {
    certificateArn: string(
      "aws.certificateArn",
      raw.certificateArn,
      /^arn:aws[\w-]*:acm:/,
      "an ACM certificate ARN (the serving tier's TLS listener)",
    ),
    zones: int("aws.zones", raw.zones ?? 2, 2, 6),
    logRetentionDays: int("aws.logRetentionDays", raw.logRetentionDays ?? 30, 1, 3_653),
  };
  // MSK places the same number of brokers in every zone.
  if (config.kafka.brokers % options.zones !== 0) {
    throw new StackConfigError(
      "kafka.brokers",
      `is ${config.kafka.brokers}; on AWS it must be a multiple of aws.zones (${options.zones})`,
    );
  }
  if (config.redis.replicasPerShard < 1) {
    throw new StackConfigError(
      "redis.replicasPerShard",
      "is 0; on AWS automatic failover needs at least 1 replica per shard",
    );
  }
  return options;
}

function azureOptions(value: unknown, config: StackConfig): AzureOptions {
  const raw = value === undefined ? {} : object("azure", value);
  if (!/^P[1-5]$/.test(config.redis.nodeSize)) {
    throw new StackConfigError(
      "redis.nodeSize",
      `is ${show(config.redis.nodeSize)}; on Azure it must be a Premium size, P1 to P5 (clustering needs Premium)`,
    );
  }
  if (config.redis.shards > 30) {
    throw new StackConfigError(
      "redis.shards",
      `is ${config.redis.shards}; Azure Cache for Redis Premium allows at most 30`,
    );
  }
  if (config.redis.replicasPerShard > 3) {
    throw new StackConfigError(
      "redis.replicasPerShard",
      `is ${config.redis.replicasPerShard}; Azure allows 1 to 3 replicas per primary`,
    );
  }
  return { logRetentionDays: int("azure.logRetentionDays", raw.logRetentionDays ?? 30, 30, 730) };
}

function kubernetesOptions(value: unknown): KubernetesOptions {
  const raw = value === undefined ? {} : object("kubernetes", value);
  const installStrimzi = bool("kubernetes.installStrimzi", raw.installStrimzi ?? false);
  const options: KubernetesOptions = {
    installStrimzi,
    prometheusOperator: bool("kubernetes.prometheusOperator", raw.prometheusOperator ?? false),
    tlsSecretName: string(
      "kubernetes.tlsSecretName",
      raw.tlsSecretName,
      NAME,
      "the name of a kubernetes.io/tls Secret for Envoy",
    ),
    redisTlsSecretName: string(
      "kubernetes.redisTlsSecretName",
      raw.redisTlsSecretName,
      NAME,
      "the name of a Secret with the Redis certificate",
    ),
    redisImage: string(
      "kubernetes.redisImage",
      raw.redisImage ?? "redis:7.4",
      /^\S+$/,
      "a container image reference",
    ),
    envoyImage: string(
      "kubernetes.envoyImage",
      raw.envoyImage ?? "envoyproxy/envoy:v1.32-latest",
      /^\S+$/,
      "a container image reference",
    ),
  };
  if (raw.storageClass !== undefined)
    options.storageClass = string(
      "kubernetes.storageClass",
      raw.storageClass,
      NAME,
      "a StorageClass name",
    );
  if (installStrimzi) {
    options.strimziChart = string(
      "kubernetes.strimziChart",
      raw.strimziChart,
      /^\S+$/,
      "where Helm finds the Strimzi chart, when kubernetes.installStrimzi is true",
    );
  }
  return options;
}

function show(value: unknown): string {
  return value === undefined ? "missing" : JSON.stringify(value);
}

function oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new StackConfigError(key, `is ${show(value)}; it must be one of: ${allowed.join(", ")}`);
  }
  return value as T;
}

function string(key: string, value: unknown, pattern: RegExp, wanted: string): string {
  if (typeof value !== "string" || !pattern.test(value)) {
    throw new StackConfigError(key, `is ${show(value)}; it must be ${wanted}`);
  }
  return value;
}

function int(key: string, value: unknown, min: number, max: number): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw new StackConfigError(
      key,
      `is ${show(value)}; it must be an integer from ${min} to ${max}`,
    );
  }
  return n;
}

function number(key: string, value: unknown, min: number, max: number): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n < min || n > max) {
    throw new StackConfigError(key, `is ${show(value)}; it must be a number from ${min} to ${max}`);
  }
  return n;
}

function bool(key: string, value: unknown): boolean {
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new StackConfigError(key, `is ${show(value)}; it must be true or false`);
}

function object(key: string, value: unknown): Record<string, unknown> {
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      // Reported below as not an object.
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StackConfigError(
      key,
      `is ${show(value)}; it must be an object (see the example stacks)`,
    );
  }
  return value as Record<string, unknown>;
}

/** The validators, for the sections parsed in their own files (infra/workloads-config.ts). */
export {
  bool as configBool,
  int as configInt,
  object as configObject,
  show as showConfigValue,
  string as configString,
};

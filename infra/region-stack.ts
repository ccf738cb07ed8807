import * as pulumi from "@pulumi/pulumi";
import { INGEST_NODE_FLAGS } from "../functions/ingest/node-flags.js";
import type { Cloud, StackConfig } from "./config.js";
import type { ReplicationFlow } from "./replication.js";

/**
 * What every region stack exports, identical on every cloud: the contract that clients,
 * dashboards and the drift and backfill functions build on. The stack exports exactly these.
 */
export interface RegionOutputs {
  cloud: pulumi.Output<Cloud>;
  region: pulumi.Output<string>;
  /** HTTPS endpoint of the serving tier (Feast's /get-online-features and /push). */
  servingUrl: pulumi.Output<string>;
  /** host:port of the Redis tier (a cluster configuration endpoint or seed node), TLS. */
  redisEndpoint: pulumi.Output<string>;
  /** host:port[,host:port] of the changelog's Kafka, TLS. */
  kafkaBootstrap: pulumi.Output<string>;
  /** Where the region's metrics are queried (Prometheus-compatible). */
  metricsEndpoint: pulumi.Output<string>;
  /**
   * The inbound replication flows, one per peer and replicated topic (empty for a lone region):
   * which peer, by what (MSK Replicator or MirrorMaker 2), and the topic it lands in here.
   */
  replication: pulumi.Output<ReplicationFlow[]>;
  /**
   * The offline store's Iceberg warehouse: `s3://<bucket>/warehouse` (Glue catalog),
   * `abfss://<container>@<account>.dfs.core.windows.net/warehouse` or the on-prem
   * `s3://<bucket>/warehouse` (Hadoop catalog).
   */
  offlineWarehouse: pulumi.Output<string>;
  /** The Iceberg sink connector writing it: `strata-<project>-offline`. */
  offlineConnector: pulumi.Output<string>;
  /**
   * How a backfill is started: the Lambda function URL (IAM auth), the Azure Function's HTTPS
   * route, or on Kubernetes `configmap/<namespace>/<name>` holding the Job manifest.
   */
  backfillEndpoint: pulumi.Output<string>;
  /** The drift evaluation's UTC cron (`strata:drift.schedule`). */
  driftSchedule: pulumi.Output<string>;
}

export const REGION_OUTPUT_NAMES = [
  "cloud",
  "region",
  "servingUrl",
  "redisEndpoint",
  "kafkaBootstrap",
  "metricsEndpoint",
  "replication",
  "offlineWarehouse",
  "offlineConnector",
  "backfillEndpoint",
  "driftSchedule",
] as const satisfies readonly (keyof RegionOutputs)[];

/** Every per-cloud region component has these outputs. */
export interface RegionComponent {
  readonly outputs: RegionOutputs;
}

/** The container command lines of the one image (functions/serve/Dockerfile). */
export const SERVE_COMMAND = ["node", "dist/functions/serve/main.js"];
export const INGEST_COMMAND = ["node", ...INGEST_NODE_FLAGS, "dist/functions/ingest/main.js"];
/** The scheduled reconcile job (functions/reconcile), in the same image. */
export const RECONCILE_COMMAND = ["node", "dist/functions/reconcile/main.js"];
/** The feature API (/get-online-features, /push): the only port a load balancer or proxy forwards. */
export const SERVE_PORT = 6566;
/** The serving tier's /health, /ready and /metrics: probes, health checks and scrapes only. */
export const SERVE_ADMIN_PORT = 9465;
/** The consumer's /health, /ready and /metrics (it serves nothing else). */
export const INGEST_METRICS_PORT = 9464;
/** The feature API's paths: what a path-aware front (Envoy) routes to the serving tier. */
export const FEATURE_PATHS = ["/get-online-features", "/push"] as const;

/** Names of region resources: `strata-<project>-<region>-<part>`, lowercase, short. */
export function resourceName(config: StackConfig, part: string): string {
  return `strata-${config.project.toLowerCase().replace(/_/g, "-")}-${part}`.slice(0, 40);
}

/**
 * The environment both containers get (docs/serving.md, docs/changelog.md): where Redis and
 * Kafka are and that both speak TLS, and the project whose published registry they follow
 * (STRATA_PROJECT, without STRATA_REPO: `strata apply` publishes it, docs/registry.md).
 * Secrets (API key hashes, Redis password) come separately, from each cloud's secret store.
 */
export function regionEnvironment(
  config: StackConfig,
  redisNodes: pulumi.Input<string>,
  kafkaBrokers: pulumi.Input<string>,
): { name: string; value: pulumi.Input<string> }[] {
  return [
    { name: "STRATA_REGION", value: config.region },
    { name: "STRATA_PROJECT", value: config.project },
    { name: "REDIS_CLUSTER_NODES", value: redisNodes },
    { name: "REDIS_TLS", value: "on" },
    { name: "KAFKA_BROKERS", value: kafkaBrokers },
    { name: "KAFKA_TLS", value: "on" },
    { name: "STRATA_CHANGELOG_PARTITIONS", value: String(config.kafka.partitions) },
    { name: "STRATA_PORT", value: String(SERVE_PORT) },
    { name: "STRATA_ADMIN_PORT", value: String(SERVE_ADMIN_PORT) },
    { name: "STRATA_METRICS_PORT", value: String(INGEST_METRICS_PORT) },
  ];
}

/**
 * What one entry point needs to know of the peer regions, besides the common environment:
 * both follow each peer's registry copy `<peer>.strata.<project>.registry` and the consumer
 * applies each peer's replicated changelog (STRATA_PEER_REGIONS); the serving tier also reads
 * each peer's Redis to answer `wait: "replicated"` (STRATA_PEER_REDIS, `name=target` items
 * separated by ';' as in STRATA_RECONCILE_REGIONS). Nothing for a lone region.
 */
export function peerEnvironment(
  config: StackConfig,
  role: "serve" | "ingest",
): { name: string; value: string }[] {
  if (config.peers.length === 0) return [];
  const regions = {
    name: "STRATA_PEER_REGIONS",
    value: config.peers.map((p) => p.region).join(","),
  };
  return role === "ingest"
    ? [regions]
    : [
        regions,
        {
          name: "STRATA_PEER_REDIS",
          value: config.peers.map((p) => `${p.region}=${p.redis}`).join(";"),
        },
      ];
}

/** Variables that only serving processes read (ports): a one-shot job gets none of them. */
const LISTENING_PORTS = new Set(["STRATA_PORT", "STRATA_ADMIN_PORT", "STRATA_METRICS_PORT"]);

/**
 * The reconcile job's environment: the region's own Redis and Kafka, exactly as the consumer
 * reaches them, without the listening ports (it serves nothing).
 */
export function jobEnvironment<T extends { name: string }>(env: T[]): T[] {
  return env.filter((v) => !LISTENING_PORTS.has(v.name));
}

/**
 * STRATA_RECONCILE_REGIONS (functions/reconcile/config.ts): this region first, the reference,
 * at its own Redis exactly as the serve and ingest containers reach it (their
 * REDIS_CLUSTER_NODES in `env`), then each peer's Redis from `strata:peers`.
 */
export function reconcileRegions(
  config: StackConfig,
  env: readonly { name: string; value?: pulumi.Input<string> }[],
): { name: string; value: pulumi.Output<string> } {
  const nodes = env.find((v) => v.name === "REDIS_CLUSTER_NODES")?.value;
  if (nodes === undefined) throw new Error("the job environment has no REDIS_CLUSTER_NODES");
  return {
    name: "STRATA_RECONCILE_REGIONS",
    value: pulumi
      .output(nodes)
      .apply((local) =>
        [
          `${config.region}=cluster://${local}`,
          ...config.peers.map((p) => `${p.region}=${p.redis}`),
        ].join(";"),
      ),
  };
}

/**
 * What the reconcile job gets besides the consumer's environment: STRATA_RECONCILE_REGIONS, and
 * STRATA_PEER_REGIONS so that it reads the published registry as serving and the consumer do
 * (the winner over this region's registry topic and the peers' copies: an apply made in another
 * region reaches this one as a copy).
 */
export function reconcileEnvironment(
  config: StackConfig,
  env: readonly { name: string; value?: pulumi.Input<string> }[],
): { name: string; value: pulumi.Input<string> }[] {
  return [reconcileRegions(config, env), ...peerEnvironment(config, "ingest")];
}

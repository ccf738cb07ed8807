/**
 * The environment of the backfill coordinator and the drift function (CONTRACTS.md), assembled
 * once for the three clouds. Each cloud adds its own login (secrets, SASL, certificates).
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config.js";
import { peerEnvironment } from "./region-stack.js";

export interface EnvVar {
  name: string;
  value: pulumi.Input<string>;
}

type Env = readonly { name: string; value?: pulumi.Input<string> }[];

function required(env: Env, name: string): pulumi.Input<string> {
  const value = env.find((v) => v.name === name)?.value;
  if (value === undefined) throw new Error(`the job environment has no ${name}`);
  return value;
}

/** The commands of the image (functions/serve/Dockerfile) for the Kubernetes Job / CronJob. */
export const BACKFILL_JOB_COMMAND = ["node", "dist/functions/backfill/job.js"];
export const DRIFT_JOB_COMMAND = ["node", "dist/functions/drift/job.js"];
/** The Lambda handlers, in the function package (dist/ of `npm run build`). */
export const BACKFILL_LAMBDA_HANDLER = "dist/functions/backfill/lambda.handler";
export const DRIFT_LAMBDA_HANDLER = "dist/functions/drift/lambda.handler";

/**
 * The backfill coordinator's variables besides the consumer's job environment (`env`, which it
 * also gets: Redis and Kafka as the consumer reaches them, with TLS): the contract's names for
 * the same Redis and Kafka, the warehouse it reads, and the peers' registry copies to follow.
 */
export function backfillEnvironment(
  config: StackConfig,
  env: Env,
  warehouse: pulumi.Input<string>,
): EnvVar[] {
  return [
    { name: "STRATA_REDIS_CLUSTER", value: required(env, "REDIS_CLUSTER_NODES") },
    { name: "STRATA_KAFKA_BROKERS", value: required(env, "KAFKA_BROKERS") },
    { name: "STRATA_OFFLINE_WAREHOUSE", value: warehouse },
    ...peerEnvironment(config, "ingest"),
  ];
}

/**
 * The drift function's variables: what it queries (Prometheus), where it submits (Argo), the
 * Argo token (`token`: STRATA_ARGO_TOKEN_SECRET naming the platform's secret, or
 * STRATA_ARGO_TOKEN as a Key Vault reference; on Kubernetes the caller adds STRATA_ARGO_TOKEN
 * from a Secret), where it claims a retraining (`drift.claimRedis`, by default this region's
 * own Redis, `rediss://<first seed of REDIS_CLUSTER_NODES>`) and this region's Redis (its
 * baselines), both over TLS.
 */
export function driftEnvironment(
  config: StackConfig,
  args: { prometheusUrl: pulumi.Input<string>; env: Env; token?: EnvVar },
): EnvVar[] {
  const nodes = required(args.env, "REDIS_CLUSTER_NODES");
  const claim =
    config.drift.claimRedis ??
    pulumi.output(nodes).apply((n) => `rediss://${n.split(",")[0]!.trim()}`);
  return [
    { name: "STRATA_PROJECT", value: config.project },
    { name: "STRATA_REGION", value: config.region },
    { name: "STRATA_PROMETHEUS_URL", value: args.prometheusUrl },
    { name: "STRATA_ARGO_URL", value: config.drift.argoUrl },
    { name: "STRATA_ARGO_NAMESPACE", value: config.drift.argoNamespace },
    { name: "STRATA_ARGO_TEMPLATE", value: config.drift.argoTemplate },
    ...(args.token ? [args.token] : []),
    { name: "STRATA_DRIFT_CLAIM_REDIS_URL", value: claim },
    // This region's Redis, where the baselines are; TLS to it and to the claim Redis.
    { name: "REDIS_CLUSTER_NODES", value: nodes },
    { name: "REDIS_TLS", value: "on" },
  ];
}

/**
 * The consumer's offline projection (functions/ingest, docs/offline-store.md): on, with the
 * sink's commit interval; the sink itself is the stack's, so no STRATA_CONNECT_URL.
 */
export function offlineProjectionEnvironment(config: StackConfig): EnvVar[] {
  return [
    { name: "STRATA_OFFLINE", value: "on" },
    { name: "STRATA_OFFLINE_COMMIT_INTERVAL_MS", value: String(config.offline.commitIntervalMs) },
  ];
}

/** Lambda and Functions app settings take a map, not a list. */
export function asMap(env: readonly EnvVar[]): Record<string, pulumi.Input<string>> {
  return Object.fromEntries(env.map((v) => [v.name, v.value]));
}

/**
 * The consumer's CDC mapper (functions/ingest, docs/sources.md), where `strata:cdc` is
 * configured: on, and STRATA_CDC_DATABASES naming each database without any password: the
 * stack's Connect workers, not the consumer, log in to the databases. Nothing without CDC.
 */
export function cdcIngestEnvironment(config: StackConfig): EnvVar[] {
  if (!config.cdc) return [];
  const databases = Object.fromEntries(
    Object.entries(config.cdc.databases).map(([name, db]) => [
      name,
      { host: db.host, port: db.port, dbname: db.dbname, user: db.user, sslmode: db.sslmode },
    ]),
  );
  return [
    { name: "STRATA_CDC", value: "on" },
    { name: "STRATA_CDC_DATABASES", value: JSON.stringify(databases) },
  ];
}

/**
 * The stack configuration of the offline store, its sink, and the backfill and drift functions
 * (`strata:offline`, `strata:drift`, `strata:functions`): parsed and validated with the rest
 * of the configuration, before any resource exists.
 */
import type { Cloud } from "./config.js";
import {
  configInt,
  configObject,
  configString,
  showConfigValue,
  StackConfigError,
} from "./config.js";
import { parseCronSchedule } from "./peers.js";

/** Every 15 minutes, on the quarter hour (UTC). */
export const DEFAULT_DRIFT_SCHEDULE = "*/15 * * * *";
/** The sink's Iceberg commit interval: the bound on changelog-to-table lag. */
export const DEFAULT_COMMIT_INTERVAL_MS = 60_000;

/** An object in S3, from `s3://bucket/key`. */
export interface S3Location {
  bucket: string;
  key: string;
}

/** An S3-compatible object store of an on-prem site, outside this program. */
export interface OnPremObjectStore {
  /** https://host[:port] of the S3 API. */
  endpoint: string;
  bucket: string;
  /** The signing region the store expects (MinIO, Ceph: any; default us-east-1). */
  region: string;
  /** Secret in the region's namespace (keys `accessKeyId`, `secretAccessKey`): the sink writes with it. */
  credentialsSecret: string;
  /** The same for a read-only credential: what the backfill job reads the warehouse with. */
  readCredentialsSecret: string;
}

export interface OfflineConfig {
  /** How often the Iceberg sink commits (its coordinator's interval). */
  commitIntervalMs: number;
  /** AWS: the MSK Connect plugin zip (Iceberg's kafka-connect-runtime with iceberg-aws). */
  connectPlugin?: S3Location;
  /** Azure and Kubernetes: a Kafka Connect image carrying Iceberg's runtime on its plugin path. */
  connectImage?: string;
  /** Kubernetes: the S3-compatible warehouse. */
  objectStore?: OnPremObjectStore;
}

export interface DriftConfig {
  /** Five-field UTC cron of the drift evaluation. */
  schedule: string;
  /** Argo Workflows' server (https://...), the WorkflowTemplate's namespace and name. */
  argoUrl: string;
  argoNamespace: string;
  argoTemplate: string;
  /**
   * The one Redis every region's drift function claims retraining in (`rediss://host:port`); a
   * lone region defaults to its own Redis.
   */
  claimRedis?: string;
  /** Kubernetes with the Prometheus operator: the Prometheus to query (http(s)://host:port). */
  prometheusUrl?: string;
}

export interface FunctionsConfig {
  /** AWS: the Lambda package (zip of dist/, node_modules, package.json) both functions run from. */
  lambdaPackage?: S3Location;
  /**
   * AWS: the AWS Parameters and Secrets Lambda Extension layer of the region (x86-64), through
   * which the drift function reads the Argo token's secret.
   */
  secretsExtensionLayer?: string;
  /** Azure: Functions v4 Node images whose package.json `main` is the backfill / drift registration. */
  azureBackfillImage?: string;
  azureDriftImage?: string;
}

export interface WorkloadsConfig {
  offline: OfflineConfig;
  drift: DriftConfig;
  functions: FunctionsConfig;
}

const IMAGE = /^\S+$/;
const SECRET_NAME = /^[a-z0-9][a-z0-9.-]{0,252}$/;

export function parseS3Location(key: string, value: unknown): S3Location {
  const match =
    typeof value === "string"
      ? /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(\S+)$/.exec(value)
      : null;
  if (!match) {
    throw new StackConfigError(
      key,
      `is ${showConfigValue(value)}; it must be an S3 object location, s3://<bucket>/<key>`,
    );
  }
  return { bucket: match[1]!, key: match[2]! };
}

function optionalObject(key: string, value: unknown): Record<string, unknown> {
  return value === undefined ? {} : configObject(key, value);
}

function url(key: string, value: unknown): string {
  return configString(key, value, /^https?:\/\/[^\s/]+(\/\S*)?$/, "an http(s):// URL");
}

function offline(raw: unknown, cloud: Cloud): OfflineConfig {
  const o = configObject("offline", raw);
  const config: OfflineConfig = {
    commitIntervalMs: configInt(
      "offline.commitIntervalMs",
      o.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS,
      10_000,
      3_600_000,
    ),
  };
  if (cloud === "aws") {
    config.connectPlugin = parseS3Location("offline.connectPlugin", o.connectPlugin);
  } else {
    config.connectImage = configString(
      "offline.connectImage",
      o.connectImage,
      IMAGE,
      "a Kafka Connect image with Iceberg's kafka-connect runtime on its plugin path",
    );
  }
  if (cloud === "kubernetes") {
    const s = configObject("offline.objectStore", o.objectStore);
    config.objectStore = {
      endpoint: url("offline.objectStore.endpoint", s.endpoint),
      bucket: configString(
        "offline.objectStore.bucket",
        s.bucket,
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        "an S3 bucket name",
      ),
      region: configString(
        "offline.objectStore.region",
        s.region ?? "us-east-1",
        /^[a-z0-9-]+$/,
        "a signing region name",
      ),
      credentialsSecret: configString(
        "offline.objectStore.credentialsSecret",
        s.credentialsSecret,
        SECRET_NAME,
        "the name of a Secret (accessKeyId, secretAccessKey) that may write the bucket",
      ),
      readCredentialsSecret: configString(
        "offline.objectStore.readCredentialsSecret",
        s.readCredentialsSecret,
        SECRET_NAME,
        "the name of a Secret (accessKeyId, secretAccessKey) that may only read the bucket",
      ),
    };
  }
  return config;
}

function drift(raw: unknown, cloud: Cloud, peered: boolean, prometheusOperator: boolean) {
  const d = configObject("drift", raw);
  const config: DriftConfig = {
    schedule: parseCronSchedule("drift.schedule", d.schedule, DEFAULT_DRIFT_SCHEDULE),
    argoUrl: url("drift.argoUrl", d.argoUrl),
    argoNamespace: configString(
      "drift.argoNamespace",
      d.argoNamespace,
      /^[a-z0-9][a-z0-9-]{0,62}$/,
      "the namespace of Argo's WorkflowTemplate",
    ),
    argoTemplate: configString(
      "drift.argoTemplate",
      d.argoTemplate,
      /^[a-z0-9][a-z0-9.-]{0,252}$/,
      "the name of the retraining WorkflowTemplate",
    ),
  };
  if (d.claimRedis !== undefined || peered) {
    config.claimRedis = configString(
      "drift.claimRedis",
      d.claimRedis,
      /^rediss?:\/\/[^\s@/,]+$/,
      peered
        ? "the one Redis all regions claim retraining in (rediss://host:port, no credentials); required with peers"
        : "rediss://host:port, without credentials",
    );
  }
  if (cloud === "kubernetes" && prometheusOperator) {
    config.prometheusUrl = url("drift.prometheusUrl", d.prometheusUrl);
  }
  return config;
}

/** AWS's published extension layer (account 177933569100 in most commercial regions). */
export function secretsExtensionLayer(region: string): string {
  return `arn:aws:lambda:${region}:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension:12`;
}

function functions(raw: unknown, cloud: Cloud, region: string): FunctionsConfig {
  const f = optionalObject("functions", raw);
  if (cloud === "aws") {
    return {
      lambdaPackage: parseS3Location("functions.lambdaPackage", f.lambdaPackage),
      secretsExtensionLayer: configString(
        "functions.secretsExtensionLayer",
        f.secretsExtensionLayer ?? secretsExtensionLayer(region),
        /^arn:aws[\w-]*:lambda:[a-z0-9-]+:\d{12}:layer:[\w-]+:\d+$/,
        "a Lambda layer version ARN",
      ),
    };
  }
  if (cloud === "azure") {
    const image = (key: "azureBackfillImage" | "azureDriftImage", what: string) =>
      configString(`functions.${key}`, f[key], IMAGE, `an Azure Functions v4 Node image ${what}`);
    return {
      azureBackfillImage: image("azureBackfillImage", "registering the backfill HTTP trigger"),
      azureDriftImage: image("azureDriftImage", "registering the drift timer"),
    };
  }
  return {};
}

/** The three sections, validated for the stack's cloud. */
export function parseWorkloads(
  raw: { offline: unknown; drift: unknown; functions: unknown },
  context: { cloud: Cloud; region: string; peered: boolean; prometheusOperator: boolean },
): WorkloadsConfig {
  return {
    offline: offline(raw.offline, context.cloud),
    drift: drift(raw.drift, context.cloud, context.peered, context.prometheusOperator),
    functions: functions(raw.functions, context.cloud, context.region),
  };
}

import { badConfig, EnvReader, type RedisAddress } from "../../shared/config/env.js";
import { DEFAULT_MIN_COUNT } from "../../shared/drift/evaluate.js";
import { DEFAULT_COOLDOWN_MS, DEFAULT_STALE_CLAIM_MS } from "../../shared/drift/retrain-trigger.js";
import { DEFAULT_EPSILON } from "../../shared/drift/statistics.js";
import type { DriftThresholds } from "../../shared/drift/baseline.js";

/** Where the retraining workflow goes; absent: the function evaluates and reports, submits nothing. */
export interface ArgoConfig {
  url: string;
  namespace: string;
  template: string;
  /** STRATA_ARGO_TOKEN, or the name of the secret holding it (STRATA_ARGO_TOKEN_SECRET). */
  token: { value: string } | { secret: string };
}

export interface DriftConfig {
  project: string;
  region: string;
  /** STRATA_PROMETHEUS_URL: one or more (comma-separated) Prometheus HTTP API base URLs; their answers are summed. */
  prometheusUrls: string[];
  /**
   * STRATA_PROMETHEUS_SIGV4_REGION: sign queries with AWS SigV4 for this region (Amazon Managed
   * Service for Prometheus answers nothing else); unset for a plain Prometheus.
   */
  prometheusSigV4Region: string | undefined;
  /** REDIS_URL / REDIS_CLUSTER_NODES: this region's Redis, where the baselines are. */
  redis: RedisAddress;
  /** STRATA_DRIFT_CLAIM_REDIS_URL: the one designated place of retraining claims. */
  claimRedisUrl: string | undefined;
  argo: ArgoConfig | undefined;
  /** STRATA_DRIFT_WINDOW: the window scored (and the step windows are aligned to). */
  windowMs: number;
  cooldownMs: number;
  staleClaimMs: number;
  minCount: number;
  epsilon: number;
  thresholds: DriftThresholds;
  /** STRATA_DRIFT_MODELS: only these models (comma-separated); all with an active baseline when unset. */
  models: string[] | undefined;
}

/** The drift function's configuration from the environment (docs/drift.md lists every variable). */
export function loadDriftConfig(env: NodeJS.ProcessEnv = process.env): DriftConfig {
  const read = new EnvReader(env);
  const project = read.required("STRATA_PROJECT", "the project whose models are watched");
  const prometheusUrls = read
    .required("STRATA_PROMETHEUS_URL", "the Prometheus HTTP API base URL(s), comma-separated")
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
  for (const url of prometheusUrls) {
    if (!/^https?:\/\//.test(url))
      throw badConfig("STRATA_PROMETHEUS_URL", url, "http(s)://host:port");
  }
  const argoUrl = read.get("STRATA_ARGO_URL");
  const claimRedisUrl = read.get("STRATA_DRIFT_CLAIM_REDIS_URL");
  if (claimRedisUrl !== undefined && !/^rediss?:\/\//.test(claimRedisUrl)) {
    throw badConfig("STRATA_DRIFT_CLAIM_REDIS_URL", claimRedisUrl, "redis://host:port");
  }
  let argo: ArgoConfig | undefined;
  if (argoUrl !== undefined) {
    if (!/^https?:\/\//.test(argoUrl))
      throw badConfig("STRATA_ARGO_URL", argoUrl, "http(s)://host:port");
    if (claimRedisUrl === undefined) {
      throw badConfig(
        "STRATA_DRIFT_CLAIM_REDIS_URL",
        undefined,
        "set with STRATA_ARGO_URL: submissions are claimed there first, so regions never submit twice",
      );
    }
    const value = read.get("STRATA_ARGO_TOKEN");
    const secret = read.get("STRATA_ARGO_TOKEN_SECRET");
    if (value === undefined && secret === undefined) {
      throw badConfig(
        "STRATA_ARGO_TOKEN",
        undefined,
        "the Argo bearer token, or STRATA_ARGO_TOKEN_SECRET",
      );
    }
    argo = {
      url: argoUrl,
      namespace: read.get("STRATA_ARGO_NAMESPACE") ?? "argo",
      template: read.required("STRATA_ARGO_TEMPLATE", "the retraining WorkflowTemplate's name"),
      token: value !== undefined ? { value } : { secret: secret! },
    };
  }
  const models = read.get("STRATA_DRIFT_MODELS");
  return {
    project,
    region: read.region(),
    prometheusUrls,
    prometheusSigV4Region: read.get("STRATA_PROMETHEUS_SIGV4_REGION"),
    redis: read.redis(),
    claimRedisUrl,
    argo,
    windowMs: duration(read, "STRATA_DRIFT_WINDOW", 3_600_000),
    cooldownMs: duration(read, "STRATA_DRIFT_COOLDOWN", DEFAULT_COOLDOWN_MS),
    staleClaimMs: duration(read, "STRATA_DRIFT_STALE_CLAIM", DEFAULT_STALE_CLAIM_MS),
    minCount: read.int("STRATA_DRIFT_MIN_COUNT", DEFAULT_MIN_COUNT, 1, 1_000_000_000),
    epsilon: fraction(read, "STRATA_DRIFT_EPSILON", DEFAULT_EPSILON),
    // Only the ones set: an undefined here would hide the default when spread over it.
    thresholds: Object.fromEntries(
      (
        [
          ["psiWarn", positive(read, "STRATA_DRIFT_PSI_WARN")],
          ["psiAlert", positive(read, "STRATA_DRIFT_PSI_ALERT")],
          ["jsAlert", positive(read, "STRATA_DRIFT_JS_ALERT")],
          ["klAlert", positive(read, "STRATA_DRIFT_KL_ALERT")],
        ] as const
      ).filter(([, value]) => value !== undefined),
    ),
    models: models
      ?.split(",")
      .map((m) => m.trim())
      .filter((m) => m.length > 0),
  };
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `1h`, `24h`, `7d` (or plain milliseconds) as milliseconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNITS[match[2] ?? "ms"]!;
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

function duration(read: EnvReader, name: string, fallback: number): number {
  const text = read.get(name);
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined) throw badConfig(name, text, "a duration such as 90s, 15m, 1h, 24h or 7d");
  return ms;
}

function positive(read: EnvReader, name: string): number | undefined {
  const text = read.get(name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw badConfig(name, text, "a positive number");
  return value;
}

function fraction(read: EnvReader, name: string, fallback: number): number {
  const value = positive(read, name) ?? fallback;
  if (value >= 1) throw badConfig(name, value, "a number in (0, 1)");
  return value;
}

import { Redis } from "ioredis";
import { loadActiveBaselines } from "../../shared/drift/baseline-store.js";
import type { DriftBaseline } from "../../shared/drift/baseline.js";
import { evaluateModel, windowCounts, type ModelEvaluation } from "../../shared/drift/evaluate.js";
import { ALL_REGIONS, FEATURE_VALUE_BUCKET_TOTAL } from "../../shared/drift/metric-names.js";
import { promString, queryVector } from "../../shared/drift/prometheus-client.js";
import { sigV4PrometheusSigner } from "../../shared/drift/prometheus-sigv4.js";
import { triggerRetraining, type TriggerOutcome } from "../../shared/drift/retrain-trigger.js";
import { isStrataError, StrataError } from "../../shared/errors.js";
import { connectFailFast } from "../../shared/online-store/connect.js";
import { waitUntilReady } from "../../shared/online-store/redis-ready.js";
import { argoToken } from "./argo-token.js";
import type { DriftConfig } from "./config.js";

export type ModelTrigger =
  | (TriggerOutcome & { error?: undefined })
  | { result: "not-configured"; detail: string }
  | { result: "failed"; error: { code: string; message: string } };

export interface ModelReport extends ModelEvaluation {
  /** Counted values whose feature or bucket the baseline does not have (serving with other edges). */
  unmatched: number;
  /** Only for models at alert level. */
  trigger?: ModelTrigger;
}

export interface DriftReport {
  project: string;
  /** The region this run is in. */
  region: string;
  evaluatedAt: string;
  window: { start: string; end: string; seconds: number };
  prometheus: string[];
  models: ModelReport[];
  /** Prometheus query time, all models. */
  queryMs: number;
  elapsedMs: number;
  /** Failed retraining submissions (the run failed: exit 1, a thrown Lambda/Azure invocation). */
  errors: { model: string; code: string; message: string }[];
}

export interface RunOptions {
  /** The window's end (epoch ms); default: now, aligned down to a multiple of the window. */
  windowEndMs?: number;
  now?: () => number;
}

/**
 * One drift evaluation: reads the active baselines from this region's Redis, queries every
 * Prometheus for each model's window, scores, and for models at alert level claims and submits
 * one retraining workflow. Every query is made before any submission, so a Prometheus failure
 * (thrown: STRATA_E_PROMETHEUS_*) submits nothing.
 */
export async function runDriftCheck(
  config: DriftConfig,
  options: RunOptions = {},
): Promise<DriftReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const windowEndMs =
    options.windowEndMs ?? Math.floor(started / config.windowMs) * config.windowMs;
  const window = { startMs: windowEndMs - config.windowMs, endMs: windowEndMs };
  const redis = connectFailFast(config.redis, { commandTimeoutMs: 10_000 });
  let baselines: DriftBaseline[];
  try {
    await waitUntilReady(redis, 5_000);
    baselines = await loadActiveBaselines(redis, config.project);
  } catch (error) {
    if (isStrataError(error)) throw error;
    throw new StrataError(
      "STRATA_E_REDIS_UNAVAILABLE",
      `the baselines could not be read from Redis: ${(error as Error).message}`,
      {},
      { cause: error },
    );
  } finally {
    redis.disconnect();
  }
  if (config.models) baselines = baselines.filter((b) => config.models!.includes(b.model));

  const queryStarted = now();
  const counted = await Promise.all(
    baselines.map(async (baseline) => {
      const samples = await queryBaselineWindow(config, baseline, window);
      return { baseline, ...windowCounts(baseline, samples) };
    }),
  );
  const queryMs = now() - queryStarted;
  const models: ModelReport[] = counted.map(({ baseline, counts, unmatched }) => ({
    ...evaluateModel(baseline, counts, {
      thresholds: config.thresholds,
      epsilon: config.epsilon,
      minCount: config.minCount,
    }),
    unmatched,
  }));

  const errors: DriftReport["errors"] = [];
  const alerting = models.filter((m) => m.status === "alert");
  if (alerting.length > 0) {
    if (!config.argo) {
      for (const m of alerting) {
        m.trigger = {
          result: "not-configured",
          detail: "STRATA_ARGO_URL is not set: nothing submitted",
        };
      }
    } else {
      const claimRedis = new Redis(config.claimRedisUrl!, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 2_000,
        commandTimeout: 5_000,
        lazyConnect: true,
      });
      claimRedis.on("error", () => undefined); // each failed command reports it
      try {
        await claimRedis.connect().catch(() => undefined);
        const token = await argoToken(config.argo.token);
        for (const m of alerting) {
          try {
            m.trigger = await triggerRetraining(
              {
                claimRedis,
                argo: { url: config.argo.url, namespace: config.argo.namespace, token },
                template: config.argo.template,
                cooldownMs: config.cooldownMs,
                staleClaimMs: config.staleClaimMs,
                region: config.region,
                now,
              },
              retrainRequest(config.project, m, window),
            );
          } catch (error) {
            const e = isStrataError(error)
              ? error
              : new StrataError("STRATA_E_INTERNAL", String(error));
            m.trigger = { result: "failed", error: { code: e.code, message: e.message } };
            errors.push({ model: m.model, code: e.code, message: e.message });
          }
        }
      } finally {
        claimRedis.disconnect();
      }
    }
  }
  return {
    project: config.project,
    region: config.region,
    evaluatedAt: new Date(started).toISOString(),
    window: {
      start: new Date(window.startMs).toISOString(),
      end: new Date(window.endMs).toISOString(),
      seconds: config.windowMs / 1000,
    },
    prometheus: config.prometheusUrls,
    models,
    queryMs,
    elapsedMs: now() - started,
    errors,
  };
}

/** The PromQL of a model's window: per region, feature and bucket, over the window. */
export function windowQuery(project: string, baseline: DriftBaseline, windowMs: number): string {
  const selector = [
    `project=${promString(project)}`,
    `feature_service=${promString(baseline.featureService)}`,
    `baseline=${promString(baseline.baselineVersion)}`,
  ].join(",");
  const seconds = Math.max(1, Math.round(windowMs / 1000));
  return `sum by (region, feature, bucket) (increase(${FEATURE_VALUE_BUCKET_TOTAL}{${selector}}[${seconds}s]))`;
}

async function queryBaselineWindow(
  config: DriftConfig,
  baseline: DriftBaseline,
  window: { startMs: number; endMs: number },
): Promise<{ feature: string; region: string; bucket: string; count: number }[]> {
  const query = windowQuery(config.project, baseline, window.endMs - window.startMs);
  const sign = config.prometheusSigV4Region
    ? sigV4PrometheusSigner(config.prometheusSigV4Region)
    : undefined;
  const answers = await Promise.all(
    config.prometheusUrls.map((url) => queryVector(url, query, { timeMs: window.endMs, sign })),
  );
  return answers.flat().map(({ metric, value }) => ({
    feature: metric.feature ?? "",
    region: metric.region ?? "unlabelled",
    bucket: metric.bucket ?? "",
    count: value,
  }));
}

function retrainRequest(
  project: string,
  m: ModelReport,
  window: { startMs: number; endMs: number },
) {
  const drifted = m.features.filter((f) => f.level === "alert");
  return {
    project,
    model: m.model,
    modelVersion: m.modelVersion,
    featureService: m.featureService,
    baselineVersion: m.baselineVersion,
    window,
    drifted: drifted.map((f) => {
      const all = f.regions[ALL_REGIONS];
      return { feature: f.name, psi: all?.psi, js: all?.js, kl: all?.kl };
    }),
    regions: [
      ...new Set(
        drifted.flatMap((f) => f.crossings.filter((c) => c.level === "alert").map((c) => c.region)),
      ),
    ].sort(),
  };
}

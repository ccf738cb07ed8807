import { loadActiveBaselines } from "../../shared/drift/baseline-store.js";
import { FeatureValueRecorder } from "../../shared/drift/value-recorder.js";
import { badConfig, EnvReader } from "../../shared/config/env.js";
import { errorField } from "../../shared/log.js";
import type { RedisClient } from "../../shared/online-store/index.js";

/** Recording of served values for drift detection (docs/drift-recording.md). */
export interface DriftRecordingConfig {
  /** STRATA_DRIFT_MONITOR: feature services or models, comma-separated, or `all`. */
  monitor: "all" | string[];
  /** STRATA_DRIFT_SAMPLE_RATE: share of requests recorded, 0 to 1 (default 0.1). */
  sampleRate: number;
  /** STRATA_DRIFT_REFRESH_MS: how often baselines are read again from Redis (default 60,000). */
  refreshMs: number;
  /** STRATA_REGION: the `region` label of the series (default "local"). */
  region: string;
}

export const DEFAULT_DRIFT_SAMPLE_RATE = 0.1;
export const DEFAULT_DRIFT_REFRESH_MS = 60_000;

/** What a feature service or model name may be in STRATA_DRIFT_MONITOR. */
const MONITOR_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The drift recording settings; undefined (recording off) when STRATA_DRIFT_MONITOR is unset. */
export function readDriftRecording(env: NodeJS.ProcessEnv): DriftRecordingConfig | undefined {
  const read = new EnvReader(env);
  const text = read.get("STRATA_DRIFT_MONITOR")?.trim();
  if (!text) return undefined;
  let monitor: DriftRecordingConfig["monitor"];
  if (text === "all") {
    monitor = "all";
  } else {
    monitor = text.split(",").map((name) => name.trim());
    if (monitor.some((name) => !MONITOR_NAME.test(name) || name === "all")) {
      throw badConfig(
        "STRATA_DRIFT_MONITOR",
        text,
        '"all", or feature service or model names separated by commas',
      );
    }
  }
  return {
    monitor,
    sampleRate: sampleRate(read.get("STRATA_DRIFT_SAMPLE_RATE")),
    refreshMs: read.int("STRATA_DRIFT_REFRESH_MS", DEFAULT_DRIFT_REFRESH_MS, 1_000, 86_400_000),
    region: read.region(),
  };
}

function sampleRate(text: string | undefined): number {
  if (text === undefined) return DEFAULT_DRIFT_SAMPLE_RATE;
  const rate = Number(text);
  if (text.trim() === "" || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw badConfig("STRATA_DRIFT_SAMPLE_RATE", text, "a number from 0 to 1, e.g. 0.1");
  }
  return rate;
}

/** A recorder with its baselines kept current: what the serving runtime holds. */
export interface DriftRecording {
  recorder: FeatureValueRecorder;
  /** Reads the baselines in force now (the refresh timer calls this too); never throws. */
  refresh: () => Promise<void>;
  stop: () => void;
}

/**
 * Starts recording: reads the project's baselines in force from the serving Redis (where
 * `npm run drift -- baseline publish` stores them) at start, then every `refreshMs`. A read
 * that fails keeps the baselines read before and is logged: drift recording never stops
 * serving, and never delays start-up beyond one read.
 */
export async function startDriftRecording(
  config: DriftRecordingConfig,
  project: string,
  redis: RedisClient,
  log: (level: "info" | "warn" | "error", message: string, fields: Record<string, unknown>) => void,
): Promise<DriftRecording> {
  const recorder = new FeatureValueRecorder({
    project,
    region: config.region,
    monitor: config.monitor,
    sampleRate: config.sampleRate,
    onNotice: (message, fields) => log("warn", message, fields),
  });
  let last = "";
  const refresh = async () => {
    try {
      // All of them: a monitored name may be a model's, which only the baseline knows.
      const baselines = await loadActiveBaselines(redis, project);
      recorder.setBaselines(baselines);
      const now = recorder.monitoredServices().join(",");
      if (now !== last) {
        log("info", "drift recording: baselines in force", {
          project,
          monitored: recorder.monitoredServices(),
          sample_rate: config.sampleRate,
        });
        last = now;
      }
    } catch (error) {
      log("error", "drift recording: reading the baselines failed; the previous ones stay", {
        project,
        error: errorField(error),
      });
    }
  };
  await refresh();
  const timer = setInterval(() => void refresh(), config.refreshMs);
  timer.unref();
  return { recorder, refresh, stop: () => clearInterval(timer) };
}

import { changelogTopic, createKafka, kafkaConnection } from "../../shared/changelog/index.js";
import { StrataError } from "../../shared/errors.js";
import { connectFailFast } from "../../shared/online-store/index.js";
import {
  openKafkaPublisher,
  readChangelogLatest,
  reconcileRegions,
  type ReconcileProgress,
  type ReconcileReport,
} from "../../shared/reconcile/index.js";
import { openRegistrySource } from "../../shared/registry/open-registry-source.js";
import type { FeatureRegistry } from "../../shared/registry/index.js";
import type { ReconcileConfig } from "./config.js";

export interface JobHooks {
  onProgress?: (progress: ReconcileProgress) => void;
  /** kafkajs' warnings and errors. */
  log?: (level: "warn" | "error", message: string) => void;
}

/**
 * One reconciliation run from a configuration: connects to every region's Redis and (only if
 * needed) to the changelog, runs the core, closes everything. What every entry point calls:
 * the CLI, the container / CronJob, the Lambda and the Azure timer.
 */
export async function runReconcileJob(
  config: ReconcileConfig,
  hooks: JobHooks = {},
): Promise<ReconcileReport> {
  const registry = await loadOnce(config, hooks);
  const views = config.views?.map((ref) => registry.viewByRef(ref));
  const kafka =
    config.kafka &&
    createKafka(
      kafkaConnection(config.kafka, `strata-reconcile-${config.region}`),
      (level, message) => hooks.log?.(level, message),
    );
  const topic = changelogTopic(registry.project);
  const regions = config.regions.map((r) => ({
    name: r.name,
    client: connectFailFast(r.address, { commandTimeoutMs: 30_000 }),
  }));
  try {
    return await reconcileRegions({
      registry,
      regions,
      views,
      dryRun: config.dryRun,
      verifyTimeoutMs: config.verifyMs,
      maxEventTimeSkewMs: config.maxEventTimeSkewMs,
      onProgress: hooks.onProgress,
      publisher: () => {
        if (!kafka) {
          throw new StrataError(
            "STRATA_E_BAD_CONFIG",
            "no changelog to re-publish into: set KAFKA_BROKERS (the local region's Kafka)",
            { variable: "KAFKA_BROKERS" },
          );
        }
        return openKafkaPublisher(kafka, topic);
      },
      changelogLatest:
        config.checkChangelog && kafka
          ? () =>
              readChangelogLatest(kafka, topic, registry, (records, total) =>
                hooks.onProgress?.({ phase: "changelog", records, total }),
              )
          : undefined,
    });
  } finally {
    for (const r of regions) r.client.disconnect();
  }
}

/** The exit status of a run: 0 converged or repaired, 1 divergence left unrepaired. */
export function exitCodeOf(report: ReconcileReport): 0 | 1 {
  return report.outcome === "unrepaired" ? 1 : 0;
}

/** The report in a few numbers, for platform logs and function results. */
export function summarize(report: ReconcileReport) {
  return {
    outcome: report.outcome,
    regions: report.regions,
    keysCompared: report.keysCompared,
    keysPerSecond: report.keysPerSecond,
    divergent: report.divergent,
    changelogShadowed: report.changelogShadowed,
    republished: report.republished,
    unrepaired: report.unrepairedCount,
    elapsedMs: report.elapsedMs,
  };
}

/** The registry the job compares by, read once: the STRATA_REPO file or the published winner. */
async function loadOnce(config: ReconcileConfig, hooks: JobHooks): Promise<FeatureRegistry> {
  const source = openRegistrySource(config.registry, `strata-reconcile-${config.region}`);
  try {
    const served = await source.start({
      onRegistry: () => undefined,
      onRefused: ({ error, origin }) => hooks.log?.("warn", `${origin}: ${error.message}`),
    });
    return served.registry;
  } finally {
    await source.stop();
  }
}

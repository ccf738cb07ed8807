// Kubernetes CronJob / container entry point: one evaluation with the configuration from the
// environment, the JSON report on stdout, exit 0 evaluated (whatever the drift), 1 failed
// (Prometheus, Redis, the claim place or Argo), 2 bad configuration. The CronJob's image runs
// `node dist/functions/drift/job.js`; the same run as `npm run drift -- check`.
import { isStrataError } from "../../shared/errors.js";
import { isMainModule } from "../../shared/main-module.js";
import { loadDriftConfig } from "./config.js";
import { runDriftCheck, type DriftReport } from "./drift-run.js";

/** The report in a few fields, for platform logs and function results. */
export function summarize(report: DriftReport) {
  return {
    project: report.project,
    region: report.region,
    window: report.window,
    models: report.models.map((m) => ({
      model: m.model,
      status: m.status,
      reason: m.reason,
      drifted: m.drifted,
      trigger: m.trigger?.result,
      workflow: m.trigger && "workflow" in m.trigger ? m.trigger.workflow : undefined,
    })),
    errors: report.errors,
    elapsedMs: report.elapsedMs,
  };
}

/** 0 evaluated, 1 a submission failed. */
export function exitCodeOf(report: DriftReport): 0 | 1 {
  return report.errors.length > 0 ? 1 : 0;
}

export async function runJob(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let config;
  try {
    config = loadDriftConfig(env);
  } catch (error) {
    console.error(isStrataError(error) ? `${error.code}: ${error.message}` : error);
    return 2;
  }
  try {
    const report = await runDriftCheck(config);
    console.log(JSON.stringify(report));
    return exitCodeOf(report);
  } catch (error) {
    console.error(JSON.stringify({ error: isStrataError(error) ? error.toJSON() : String(error) }));
    return 1;
  }
}

if (isMainModule(import.meta.url)) process.exitCode = await runJob();

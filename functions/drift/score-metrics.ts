import { Counter, Gauge, Registry } from "prom-client";
import {
  DRIFT_ALERT,
  DRIFT_EVALUATIONS_TOTAL,
  DRIFT_SCORE,
  DRIFT_TRIGGERS_TOTAL,
} from "../../shared/drift/metric-names.js";
import type { DriftReport } from "./drift-run.js";

/**
 * The drift function's own metrics, in a registry of its own: the latest scores of every
 * feature (per region and across regions), each model's alert state, and counts of
 * evaluations and submissions. Serve `registry.metrics()` on /metrics where the platform lets
 * Prometheus scrape (`npm run drift -- check --every ... --metrics-port ...`).
 */
export class DriftMetrics {
  readonly registry = new Registry();
  private readonly score = new Gauge({
    name: DRIFT_SCORE,
    help: "Latest drift score of a feature against its baseline",
    labelNames: ["project", "model", "feature_service", "feature", "region", "statistic"],
    registers: [this.registry],
  });
  private readonly alert = new Gauge({
    name: DRIFT_ALERT,
    help: "1 when the model's latest evaluation crossed an alert threshold",
    labelNames: ["project", "model"],
    registers: [this.registry],
  });
  private readonly evaluations = new Counter({
    name: DRIFT_EVALUATIONS_TOTAL,
    help: "Drift evaluations by outcome",
    labelNames: ["project", "model", "outcome"],
    registers: [this.registry],
  });
  private readonly triggers = new Counter({
    name: DRIFT_TRIGGERS_TOTAL,
    help: "Retraining submissions by result",
    labelNames: ["project", "model", "result"],
    registers: [this.registry],
  });

  record(report: DriftReport): void {
    // Scores of features no longer in a baseline must not linger.
    this.score.reset();
    const project = report.project;
    for (const m of report.models) {
      this.evaluations.inc({ project, model: m.model, outcome: m.status });
      this.alert.set({ project, model: m.model }, m.status === "alert" ? 1 : 0);
      if (m.trigger) this.triggers.inc({ project, model: m.model, result: m.trigger.result });
      for (const f of m.features) {
        for (const [region, s] of Object.entries(f.regions)) {
          for (const statistic of ["psi", "kl", "js"] as const) {
            const value = s[statistic];
            if (value === undefined) continue;
            this.score.set(
              {
                project,
                model: m.model,
                feature_service: m.featureService,
                feature: f.name,
                region,
                statistic,
              },
              value,
            );
          }
        }
      }
    }
  }

  recordError(project: string): void {
    this.evaluations.inc({ project, model: "", outcome: "error" });
  }
}

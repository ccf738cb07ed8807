import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadDriftConfig, parseDuration } from "../../../functions/drift/config.js";
import type { DriftReport } from "../../../functions/drift/drift-run.js";
import { reportTable } from "../../../functions/drift/report-table.js";
import { DriftMetrics } from "../../../functions/drift/score-metrics.js";
import { isStrataError } from "../../../shared/errors.js";

const base = {
  STRATA_PROJECT: "demo",
  STRATA_PROMETHEUS_URL: "http://127.0.0.1:9090, http://127.0.0.1:9091",
  REDIS_URL: "redis://127.0.0.1:6379",
};

describe("drift function configuration", () => {
  it("defaults: 1h window, 24h cooldown, no Argo, only set thresholds (defaults stay in force)", () => {
    const config = loadDriftConfig(base);
    assert.equal(config.windowMs, 3_600_000);
    assert.equal(config.cooldownMs, 86_400_000);
    assert.equal(config.argo, undefined);
    assert.deepEqual(config.prometheusUrls, ["http://127.0.0.1:9090", "http://127.0.0.1:9091"]);
    assert.deepEqual(config.thresholds, {});
    assert.deepEqual(loadDriftConfig({ ...base, STRATA_DRIFT_JS_ALERT: "0.2" }).thresholds, {
      jsAlert: 0.2,
    });
  });

  it("Argo needs the template, a token and the claim place", () => {
    const argo = {
      ...base,
      STRATA_ARGO_URL: "http://argo:2746",
      STRATA_ARGO_TEMPLATE: "t",
      STRATA_ARGO_TOKEN: "x",
    };
    assert.throws(
      () => loadDriftConfig(argo),
      (e) => isStrataError(e, "STRATA_E_BAD_CONFIG") && /CLAIM_REDIS/.test(e.message),
    );
    const ok = loadDriftConfig({ ...argo, STRATA_DRIFT_CLAIM_REDIS_URL: "redis://home:6379" });
    assert.deepEqual(ok.argo, {
      url: "http://argo:2746",
      namespace: "argo",
      template: "t",
      token: { value: "x" },
    });
    assert.throws(
      () =>
        loadDriftConfig({
          ...argo,
          STRATA_ARGO_TOKEN: "",
          STRATA_DRIFT_CLAIM_REDIS_URL: "redis://h:1",
        }),
      (e) => isStrataError(e, "STRATA_E_BAD_CONFIG"),
    );
    assert.throws(
      () => loadDriftConfig({ ...base, STRATA_PROMETHEUS_URL: "localhost:9090" }),
      (e) => isStrataError(e, "STRATA_E_BAD_CONFIG"),
    );
    assert.throws(
      () => loadDriftConfig({ ...base, STRATA_DRIFT_WINDOW: "1 hour" }),
      (e) => isStrataError(e, "STRATA_E_BAD_CONFIG"),
    );
  });

  it("durations", () => {
    assert.deepEqual(
      ["90s", "15m", "1h", "24h", "7d", "250"].map(parseDuration),
      [90_000, 900_000, 3_600_000, 86_400_000, 604_800_000, 250],
    );
    assert.deepEqual(["", "0s", "1.5h", "-1m"].map(parseDuration), [
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe("drift report output", () => {
  const report: DriftReport = {
    project: "demo",
    region: "a",
    evaluatedAt: "2026-01-01T01:05:00.000Z",
    window: { start: "2026-01-01T00:00:00.000Z", end: "2026-01-01T01:00:00.000Z", seconds: 3600 },
    prometheus: ["http://p:9090"],
    queryMs: 3,
    elapsedMs: 5,
    errors: [],
    models: [
      {
        model: "eta",
        modelVersion: "12",
        featureService: "s",
        baselineVersion: "abc",
        status: "alert",
        reason: "alert: v@1:x psi=0.900 (all)",
        observed: 400,
        drifted: ["v@1:x"],
        unmatched: 0,
        trigger: {
          result: "submitted",
          idempotencyKey: "k",
          label: "l",
          workflow: "wf-1",
          detail: "submitted workflow wf-1",
        },
        features: [
          {
            name: "v@1:x",
            kind: "numeric",
            level: "alert",
            crossings: [],
            regions: {
              all: { count: 400, counts: [0, 400], psi: 0.9, kl: 0.5, js: 0.6, level: "alert" },
              a: { count: 400, counts: [0, 400], psi: 0.9, kl: 0.5, js: 0.6, level: "alert" },
            },
          },
        ],
      },
    ],
  };

  it("the table names the model, its decision, the submission and each feature's scores", () => {
    const text = reportTable(report);
    assert.match(text, /eta 12 \(service s, baseline abc\): ALERT/);
    assert.match(text, /retraining: submitted: submitted workflow wf-1/);
    assert.match(text, /v@1:x\s+400\s+0\.9000\s+0\.6000\s+0\.5000\s+alert\s+a:alert/);
  });

  it("scores become gauges per feature, region and statistic", async () => {
    const metrics = new DriftMetrics();
    metrics.record(report);
    const text = await metrics.registry.metrics();
    assert.match(
      text,
      /strata_drift_score\{project="demo",model="eta",feature_service="s",feature="v@1:x",region="all",statistic="psi"\} 0\.9/,
    );
    assert.match(text, /strata_drift_alert\{project="demo",model="eta"\} 1/);
    assert.match(
      text,
      /strata_drift_triggers_total\{project="demo",model="eta",result="submitted"\} 1/,
    );
  });
});

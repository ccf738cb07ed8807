// Drift detection end to end against real servers: the shared stack's Redis (baselines and the
// retraining claim), a real Prometheus this test starts (Debian's prometheus 2.42), scraping
// exporters that serve the serving tier's bucket counters with distributions the test sets,
// and an Argo stand-in that checks every request against Argo's published API schema (Argo
// itself needs Kubernetes). Serving's own recording is not in the loop here: the exporters
// play its part with the same metric name and labels.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import azureFunctions from "@azure/functions";
import type { ScheduledEvent } from "aws-lambda";
import { Redis } from "ioredis";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { createTimerHandler } from "../../functions/drift/azure-timer.js";
import { loadDriftConfig, type DriftConfig } from "../../functions/drift/config.js";
import { runDriftCheck, type DriftReport } from "../../functions/drift/drift-run.js";
import { createLambdaHandler } from "../../functions/drift/lambda.js";
import { buildBaseline } from "../../shared/drift/baseline-build.js";
import { publishBaseline } from "../../shared/drift/baseline-store.js";
import { bucketCount, bucketIndex, type DriftBaseline } from "../../shared/drift/baseline.js";
import {
  CLAIM_LABEL,
  claimLabel,
  claimRedisKey,
  idempotencyKey,
  triggerRetraining,
  type RetrainRequest,
  type TriggerConfig,
} from "../../shared/drift/retrain-trigger.js";
import { isStrataError } from "../../shared/errors.js";
import { ArgoStandIn } from "../support/argo-stand-in.js";
import { BucketExporter } from "../support/bucket-exporter.js";
import { PrivatePrometheus } from "../support/private-prometheus.js";
import { sleep, uniqueProject } from "../support/store.js";

const { InvocationContext } = azureFunctions;

const REGIONS = ["a", "b", "c"] as const;
const SERVICE = "churn_features";
const TEMPLATE = "retrain-model";
const TEMPLATE_PARAMETERS = [
  "project",
  "model",
  "model_version",
  "feature_service",
  "baseline_version",
  "features",
  "scores",
  "regions",
  "window_start",
  "window_end",
  "idempotency_key",
];
const TOKEN = "argo-test-token";
const SERVED_PER_REGION = 3_000;

/** Deterministic pseudo-random numbers (mulberry32), so runs are repeatable. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Sample = { x: number | null; c: string | null };

/** Rows like the training data: x ~ uniform(0, 1000) with 5% nulls, c red/green/blue 50/30/20. */
function rows(n: number, seed: number, shiftX = 0): Sample[] {
  const next = random(seed);
  return Array.from({ length: n }, () => {
    const u = next();
    const k = next();
    return {
      x: next() < 0.05 ? null : u * 1000 + shiftX,
      c: k < 0.5 ? "red" : k < 0.8 ? "green" : "blue",
    };
  });
}

function makeBaseline(project: string): DriftBaseline {
  const training = rows(20_000, 1);
  return buildBaseline({
    project,
    model: "churn",
    modelVersion: "7",
    featureService: SERVICE,
    source: "synthetic training set",
    columns: [
      { name: "activity@1:x", kind: "numeric", values: training.map((r) => r.x) },
      { name: "activity@1:c", kind: "categorical", values: training.map((r) => r.c) },
    ],
  });
}

describe("drift detection against real Redis and a real Prometheus", { timeout: 180_000 }, () => {
  const redisUrl = resolveEndpoints().redis.address;
  let redis: Redis;
  let exporters: BucketExporter[];
  let prometheus: PrivatePrometheus;
  let argo: ArgoStandIn;

  before(async () => {
    redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
    exporters = await Promise.all(REGIONS.map(() => BucketExporter.start()));
    prometheus = await PrivatePrometheus.start(exporters.map((e) => e.target));
    await prometheus.waitForTargets(REGIONS.length);
    argo = await ArgoStandIn.start({
      namespace: "ml",
      token: TOKEN,
      templates: { [TEMPLATE]: TEMPLATE_PARAMETERS },
    });
  });

  after(async () => {
    await prometheus?.stop();
    await argo?.stop();
    await Promise.all(exporters?.map((e) => e.stop()) ?? []);
    redis?.disconnect();
  });

  function env(project: string, region: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      STRATA_PROJECT: project,
      STRATA_REGION: region,
      STRATA_PROMETHEUS_URL: prometheus.url,
      REDIS_URL: redisUrl,
      STRATA_ARGO_URL: argo.url,
      STRATA_ARGO_NAMESPACE: "ml",
      STRATA_ARGO_TEMPLATE: TEMPLATE,
      STRATA_ARGO_TOKEN: TOKEN,
      STRATA_DRIFT_CLAIM_REDIS_URL: redisUrl,
      STRATA_DRIFT_WINDOW: "30s",
      ...extra,
    };
  }

  const config = (project: string, region: string, extra?: NodeJS.ProcessEnv): DriftConfig =>
    loadDriftConfig(env(project, region, extra));

  /** Plays the serving tier of every region: values bucketed with the baseline's edges, counted. */
  async function serve(baseline: DriftBaseline, shiftX: number): Promise<void> {
    REGIONS.forEach((region, r) => {
      for (const feature of baseline.features) {
        exporters[r]!.declare(
          {
            project: baseline.project,
            region,
            feature_service: SERVICE,
            feature: feature.name,
            baseline: baseline.baselineVersion,
          },
          bucketCount(feature),
        );
      }
    });
    await sleep(2_500); // two scrapes at zero: the increase starts from there
    REGIONS.forEach((region, r) => {
      const served = rows(SERVED_PER_REGION, 100 + r, shiftX);
      for (const feature of baseline.features) {
        const counts = new Array<number>(bucketCount(feature)).fill(0);
        for (const row of served)
          counts[bucketIndex(feature, feature.name.endsWith(":x") ? row.x : row.c)]!++;
        exporters[r]!.add(
          {
            project: baseline.project,
            region,
            feature_service: SERVICE,
            feature: feature.name,
            baseline: baseline.baselineVersion,
          },
          counts,
        );
      }
    });
    await sleep(2_500);
  }

  async function published(prefix: string): Promise<DriftBaseline> {
    const baseline = makeBaseline(uniqueProject(prefix));
    await publishBaseline(redis, baseline);
    return baseline;
  }

  it("a matching distribution scores low in every region and across them: no trigger", async () => {
    const baseline = await published("drift_match");
    await serve(baseline, 0);
    const before = argo.submissions.length;
    const report = await runDriftCheck(config(baseline.project, "a"), { windowEndMs: Date.now() });
    const [model] = report.models;
    assert.ok(model);
    assert.equal(model.status, "ok", model.reason);
    assert.equal(model.trigger, undefined);
    for (const feature of model.features) {
      assert.deepEqual(Object.keys(feature.regions).sort(), ["a", "all", "b", "c"]);
      // increase() extrapolates a little past the last scrape: about, not exactly, what was served
      const all = feature.regions.all!;
      assert.ok(Math.abs(all.count / (3 * SERVED_PER_REGION) - 1) < 0.2, `count ${all.count}`);
      assert.ok(all.psi! < 0.1, `${feature.name} psi ${all.psi}`);
    }
    assert.equal(argo.submissions.length, before);
  });

  it("a shifted feature alerts; three regions' functions racing on the window submit exactly once, naming it", async () => {
    const baseline = await published("drift_shift");
    await serve(baseline, 400);
    const windowEndMs = Date.now();
    const before = argo.submissions.length;
    const reports = await Promise.all(
      REGIONS.map((region) => runDriftCheck(config(baseline.project, region), { windowEndMs })),
    );
    const models = reports.map((r) => r.models[0]!);
    for (const m of models) {
      assert.equal(m.status, "alert", m.reason);
      assert.deepEqual(m.drifted, ["activity@1:x"]);
    }
    const results = models.map((m) => m.trigger?.result).sort();
    assert.deepEqual(results, ["deduplicated", "deduplicated", "submitted"]);
    assert.deepEqual(argo.violations, []);
    const mine = argo.submissions.slice(before);
    assert.equal(mine.length, 1);
    const wf = mine[0]!;
    assert.equal(wf.template, TEMPLATE);
    assert.equal(wf.parameters.model, "churn");
    assert.equal(wf.parameters.model_version, "7");
    assert.equal(wf.parameters.features, "activity@1:x");
    assert.equal(wf.parameters.baseline_version, baseline.baselineVersion);
    assert.equal(wf.parameters.window_end, new Date(windowEndMs).toISOString());
    assert.ok(
      (JSON.parse(wf.parameters.scores!) as Record<string, { psi: number }>)["activity@1:x"]!.psi >
        0.25,
    );
    assert.equal(wf.labels[CLAIM_LABEL], claimLabel(wf.parameters.idempotency_key!));

    // Later in the cooldown, another window: still nothing new.
    const later = await runDriftCheck(config(baseline.project, "b"), { windowEndMs: Date.now() });
    assert.equal(later.models[0]!.trigger?.result, "deduplicated");
    assert.equal(argo.submissions.length, before + 1);
  });

  it("an empty window decides nothing and says so; the Lambda and Azure timer adapters report it", async () => {
    const baseline = await published("drift_empty");
    const windowEndMs = Date.now();
    const report = await runDriftCheck(config(baseline.project, "a"), { windowEndMs });
    assert.equal(report.models[0]!.status, "empty");
    assert.match(report.models[0]!.reason, /no values observed in the window: no decision/);
    assert.equal(report.models[0]!.trigger, undefined);

    const event: ScheduledEvent = {
      version: "0",
      id: "7bf73129-1428-4cd3-a780-95db273d1602",
      "detail-type": "Scheduled Event",
      source: "aws.events",
      account: "123456789012",
      time: "2026-12-06T04:05:00Z",
      region: "eu-west-1",
      resources: ["arn:aws:events:eu-west-1:123456789012:rule/strata-drift"],
      detail: {},
    };
    const lambda = createLambdaHandler(() =>
      runDriftCheck(config(baseline.project, "a"), { windowEndMs }),
    );
    const summary = await lambda(event);
    assert.equal(summary.models[0]!.status, "empty");
    await assert.rejects(
      lambda({ ...event, "detail-type": "Object Created" } as unknown as ScheduledEvent),
      /Scheduled Event/,
    );

    const logged: string[] = [];
    const context = new InvocationContext({
      invocationId: "d1",
      functionName: "drift",
      logHandler: (_level, ...args) => logged.push(args.map(String).join(" ")),
    });
    const timer = {
      isPastDue: false,
      schedule: { adjustForDST: true },
      scheduleStatus: {
        last: "2026-12-06T03:05:00Z",
        next: "2026-12-06T04:05:00Z",
        lastUpdated: "2026-12-06T03:05:00Z",
      },
    };
    await createTimerHandler(() => runDriftCheck(config(baseline.project, "a"), { windowEndMs }))(
      timer,
      context,
    );
    const line = JSON.parse(logged.find((l) => l.includes('"drift"'))!) as {
      models: { status: string }[];
    };
    assert.equal(line.models[0]!.status, "empty");
  });

  it("Prometheus stopped: a clear STRATA_E_PROMETHEUS_UNAVAILABLE, no submission, exit 1; up again it submits", async () => {
    const baseline = await published("drift_down");
    await serve(baseline, 400);
    const at = String(Date.now());
    const doomed = await PrivatePrometheus.start([]);
    await doomed.stop();
    const before = argo.submissions.length;
    const down = await cli(
      ["check", "--at", at],
      env(baseline.project, "a", { STRATA_PROMETHEUS_URL: doomed.url }),
    );
    assert.equal(down.status, 1, down.stderr);
    assert.match(
      down.stderr,
      /STRATA_E_PROMETHEUS_UNAVAILABLE: Prometheus at http:\/\/127\.0\.0\.1:\d+ did not answer/,
    );
    assert.match(down.stderr, /nothing was submitted/);
    assert.equal(argo.submissions.length, before);
    // The same window against a Prometheus that answers does alert: the failure above withheld a submission.
    const up = await cli(["check", "--at", at, "--json"], env(baseline.project, "a"));
    assert.equal(up.status, 0, up.stderr);
    const report = JSON.parse(up.stdout) as DriftReport;
    assert.equal(report.models[0]!.trigger?.result, "submitted");
    assert.equal(argo.submissions.length, before + 1);
  });

  describe("the claim: crash recovery and failures", () => {
    const request = (project: string): RetrainRequest => ({
      project,
      model: "churn",
      modelVersion: "7",
      featureService: SERVICE,
      baselineVersion: "b1",
      window: { startMs: 1_000_000, endMs: 1_030_000 },
      drifted: [{ feature: "activity@1:x", psi: 0.9, js: 0.3, kl: 0.4 }],
      regions: ["all"],
    });
    const trigger = (claimRedis: Redis): TriggerConfig => ({
      claimRedis,
      argo: { url: argo.url, namespace: "ml", token: TOKEN },
      template: TEMPLATE,
      cooldownMs: 3_600_000,
      staleClaimMs: 60_000,
      region: "a",
    });
    const staleClaim = (r: RetrainRequest) =>
      JSON.stringify({
        key: idempotencyKey(r),
        label: claimLabel(idempotencyKey(r)),
        state: "claimed",
        region: "b",
        claimedAtMs: Date.now() - 600_000,
      });

    it("a crash after submitting (stale claim, workflow exists): found by label, not resubmitted", async () => {
      const r = request(uniqueProject("drift_crash1"));
      await redis.set(claimRedisKey(r.project, r.model), staleClaim(r), "PX", 3_600_000);
      argo.seed({
        template: TEMPLATE,
        labels: { [CLAIM_LABEL]: claimLabel(idempotencyKey(r)) },
        parameters: {},
      });
      const before = argo.submissions.length;
      const outcome = await triggerRetraining(trigger(redis), r);
      assert.equal(outcome.result, "recovered");
      assert.equal(argo.submissions.length, before);
      const stored = JSON.parse((await redis.get(claimRedisKey(r.project, r.model)))!) as {
        state: string;
      };
      assert.equal(stored.state, "submitted");
      assert.equal((await triggerRetraining(trigger(redis), r)).result, "deduplicated");
    });

    it("a crash before submitting (stale claim, no workflow): taken over and submitted once", async () => {
      const r = request(uniqueProject("drift_crash2"));
      await redis.set(claimRedisKey(r.project, r.model), staleClaim(r), "PX", 3_600_000);
      const before = argo.submissions.length;
      const outcomes = await Promise.all([1, 2, 3].map(() => triggerRetraining(trigger(redis), r)));
      assert.deepEqual(
        outcomes.map((o) => o.result).filter((x) => x === "submitted"),
        ["submitted"],
      );
      assert.equal(argo.submissions.length, before + 1);
      assert.deepEqual(argo.violations, []);
    });

    it("a fresh claim by another run is respected: no submission while it is submitting", async () => {
      const r = request(uniqueProject("drift_fresh"));
      const fresh = JSON.parse(staleClaim(r)) as { claimedAtMs: number };
      fresh.claimedAtMs = Date.now();
      await redis.set(claimRedisKey(r.project, r.model), JSON.stringify(fresh), "PX", 3_600_000);
      const before = argo.submissions.length;
      const outcome = await triggerRetraining(trigger(redis), r);
      assert.equal(outcome.result, "deduplicated");
      assert.equal(outcome.claimedBy, "b");
      assert.equal(argo.submissions.length, before);
    });

    it("the claim Redis unreachable: STRATA_E_DRIFT_CLAIM_UNAVAILABLE, fail closed, nothing submitted", async () => {
      const down = new Redis("redis://127.0.0.1:1", {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
      });
      down.on("error", () => undefined);
      const before = argo.submissions.length;
      await assert.rejects(
        triggerRetraining(trigger(down), request(uniqueProject("drift_noclaim"))),
        (e) => isStrataError(e, "STRATA_E_DRIFT_CLAIM_UNAVAILABLE"),
      );
      assert.equal(argo.submissions.length, before);
      down.disconnect();
    });

    it("Argo refusing frees the claim (nothing was created); Argo failing keeps it for the label check", async () => {
      const r = request(uniqueProject("drift_refused"));
      argo.failNext = { status: 403, count: 1 };
      await assert.rejects(triggerRetraining(trigger(redis), r), (e) =>
        isStrataError(e, "STRATA_E_ARGO_REJECTED"),
      );
      assert.equal(await redis.get(claimRedisKey(r.project, r.model)), null);
      argo.failNext = { status: 503, count: 1 };
      await assert.rejects(triggerRetraining(trigger(redis), r), (e) =>
        isStrataError(e, "STRATA_E_ARGO_UNAVAILABLE"),
      );
      const kept = JSON.parse((await redis.get(claimRedisKey(r.project, r.model)))!) as {
        state: string;
      };
      assert.equal(kept.state, "claimed");
      argo.failNext = undefined;
    });
  });
});

function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "functions/drift/main.ts", ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

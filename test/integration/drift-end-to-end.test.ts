// Drift end to end with nothing standing in but Argo: a real serving process records the values
// it serves (sample rate 1) into its bucket counters, the local stack's real Prometheus scrapes
// them, and the drift function queries that Prometheus, scores against the baseline published in
// the real Redis, and submits to the schema-checking Argo stand-in (Argo needs Kubernetes).
// drift.test.ts covers the function's edge cases with exporters in serving's place; this file
// proves the pieces fit: the counter serving writes is the one the function reads.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { loadDriftConfig, type DriftConfig } from "../../functions/drift/config.js";
import { runDriftCheck } from "../../functions/drift/drift-run.js";
import { buildBaseline } from "../../shared/drift/baseline-build.js";
import { activeBaselinesKey, publishBaseline } from "../../shared/drift/baseline-store.js";
import type { DriftBaseline } from "../../shared/drift/baseline.js";
import { FEATURE_VALUE_BUCKET_TOTAL } from "../../shared/drift/metric-names.js";
import { OnlineStore } from "../../shared/online-store/index.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { HybridLogicalClock } from "../../shared/versions/index.js";
import { ArgoStandIn } from "../support/argo-stand-in.js";
import { DRIFT_MODEL, DRIFT_SERVICE, driftRepo } from "../support/drift-repo.js";
import { stackPrometheusUrl, waitForQuery } from "../support/prometheus.js";
import { startServeProcess, type ServeProcess } from "../support/serve-process.js";
import { sleep, uniqueProject } from "../support/store.js";

const DRIVERS = 400;
const ROUNDS = 3;
const WINDOW_MS = 15_000;
const TEMPLATE = "retrain";
const TOKEN = "e2e-token";
const CITIES = ["paris", "rome", "lyon", "oslo", "nice"];

/** Driver i's values: rate spread evenly over [0, 1), or all near 1 once shifted. */
function values(i: number, shifted: boolean) {
  return {
    rate: shifted ? 0.99 : (i % 100) / 100,
    trips: (i * 7) % 250,
    city: CITIES[i % CITIES.length]!,
    active: i % 3 === 0,
    tags: ["t"],
  };
}

describe(
  "drift end to end: serving's counters, the stack's Prometheus, the drift function",
  {
    timeout: 170_000,
  },
  () => {
    const project = uniqueProject("drifte2e");
    const registry = new FeatureRegistry(driftRepo(project));
    const redisUrl = resolveEndpoints().redis.address;
    const clock = new HybridLogicalClock();
    let redis: Redis;
    let store: OnlineStore;
    let serve: ServeProcess;
    let argo: ArgoStandIn;
    let baseline: DriftBaseline;

    async function writeAll(shifted: boolean): Promise<void> {
      await store.write(
        Array.from({ length: DRIVERS }, (_, i) => ({
          view: "drift_stats",
          entity: { driver_id: i + 1 },
          values: values(i + 1, shifted),
          version: { eventTsMs: Date.now(), epoch: 0, hlc: clock.now(), originRegion: "a" },
        })),
      );
    }

    /** Every driver, ROUNDS times, by feature service (what serving records). */
    async function serveAll(): Promise<void> {
      for (let round = 0; round < ROUNDS; round++) {
        for (let first = 1; first <= DRIVERS; first += 100) {
          const response = await fetch(`${serve.url}/get-online-features`, {
            method: "POST",
            headers: { authorization: `Bearer ${serve.key}`, "content-type": "application/json" },
            body: JSON.stringify({
              feature_service: DRIFT_SERVICE,
              entities: { driver_id: Array.from({ length: 100 }, (_, k) => first + k) },
            }),
          });
          assert.equal(response.status, 200, await response.text());
        }
      }
    }

    /** Waits until the stack's Prometheus has scraped `total` rate values of this project. */
    async function scraped(total: number): Promise<void> {
      await waitForQuery(
        stackPrometheusUrl(),
        `sum(${FEATURE_VALUE_BUCKET_TOTAL}{project="${project}",feature="drift_stats@1:rate"})`,
        (samples) => samples.length > 0 && samples[0]!.value >= total,
        20_000,
      );
      // One more scrape, so the window's last sample holds the final counts.
      await sleep(1_500);
    }

    const config = (region: string): DriftConfig =>
      loadDriftConfig({
        STRATA_PROJECT: project,
        STRATA_REGION: region,
        STRATA_PROMETHEUS_URL: stackPrometheusUrl(),
        REDIS_URL: redisUrl,
        STRATA_ARGO_URL: argo.url,
        STRATA_ARGO_NAMESPACE: "ml",
        STRATA_ARGO_TEMPLATE: TEMPLATE,
        STRATA_ARGO_TOKEN: TOKEN,
        STRATA_DRIFT_CLAIM_REDIS_URL: redisUrl,
        STRATA_DRIFT_WINDOW: `${WINDOW_MS / 1000}s`,
      });

    before(async () => {
      redis = new Redis(redisUrl);
      store = await OnlineStore.open({ client: redis, registry, hotCache: false });
      await writeAll(false);
      // The baseline is the served data itself: serving the same values scores near zero.
      const training = Array.from({ length: DRIVERS }, (_, i) => values(i + 1, false));
      baseline = buildBaseline({
        project,
        model: DRIFT_MODEL,
        modelVersion: "1",
        featureService: DRIFT_SERVICE,
        source: "the served rows",
        columns: [
          { name: "drift_stats@1:rate", kind: "numeric", values: training.map((r) => r.rate) },
          { name: "drift_stats@1:trips", kind: "numeric", values: training.map((r) => r.trips) },
          { name: "drift_stats@1:city", kind: "categorical", values: training.map((r) => r.city) },
          {
            name: "drift_stats@1:active",
            kind: "categorical",
            values: training.map((r) => r.active),
          },
        ],
      });
      await publishBaseline(redis, baseline);
      argo = await ArgoStandIn.start({
        namespace: "ml",
        token: TOKEN,
        templates: {
          [TEMPLATE]: [
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
          ],
        },
      });
      serve = await startServeProcess({
        project,
        topology: "standalone",
        region: "a",
        kafka: false,
        env: {
          STRATA_REPO: "test/support/drift-repo-module.ts",
          STRATA_DRIFT_MONITOR: DRIFT_SERVICE,
          STRATA_DRIFT_SAMPLE_RATE: "1",
        },
      });
    });

    after(async () => {
      await serve?.stop();
      await argo?.stop();
      await store?.close();
      await redis?.del(
        activeBaselinesKey(project),
        `fs:{${project}}:drift:baseline:${DRIFT_SERVICE}:${baseline?.baselineVersion}`,
      );
      redis?.disconnect();
    });

    it("serving what the model was trained on triggers nothing; shifting one feature submits one workflow naming it, however many regions race", async () => {
      // Counts that reach Prometheus in a series' first sample are in no increase(): the
      // series (exported at 0 once the baseline is in force) must be scraped before traffic.
      await scraped(0);
      await serveAll();
      await scraped(DRIVERS * ROUNDS);
      const calm = await runDriftCheck(config("a"), { windowEndMs: Date.now() });
      const model = calm.models[0]!;
      assert.equal(model.status, "ok", model.reason);
      assert.ok(model.observed >= DRIVERS * ROUNDS, `observed ${model.observed}`);
      assert.equal(model.trigger, undefined);
      assert.equal(argo.submissions.length, 0);

      // The first traffic must fall out of the window before the shifted traffic is scored.
      await sleep(WINDOW_MS + 1_000);
      await writeAll(true);
      await serveAll();
      await scraped(2 * DRIVERS * ROUNDS);
      const windowEndMs = Date.now();
      const reports = await Promise.all(
        ["a", "b", "c"].map((region) => runDriftCheck(config(region), { windowEndMs })),
      );
      for (const report of reports) {
        const m = report.models[0]!;
        assert.equal(m.status, "alert", m.reason);
        assert.deepEqual(m.drifted, ["drift_stats@1:rate"]);
      }
      assert.deepEqual(reports.map((r) => r.models[0]!.trigger?.result).sort(), [
        "deduplicated",
        "deduplicated",
        "submitted",
      ]);
      assert.deepEqual(argo.violations, []);
      assert.equal(argo.submissions.length, 1);
      assert.equal(argo.submissions[0]!.parameters.features, "drift_stats@1:rate");
      assert.equal(argo.submissions[0]!.parameters.model, DRIFT_MODEL);
    });
  },
);

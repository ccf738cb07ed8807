// Drift recording at serving, end to end: a serving process with monitoring on (sample rate
// 1) over the real Redis, requests by feature service and by feature list, then its /metrics:
// the counts per bucket are exactly what it served, bucketed by the baseline's definition
// (baseline.ts bucketIndex, not the recorder's compiled functions), and the labels are the
// bounded set, whatever the requests carried.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { bucketIndex, type DriftBaseline } from "../../shared/drift/baseline.js";
import { activeBaselinesKey, publishBaseline } from "../../shared/drift/baseline-store.js";
import {
  FEATURE_VALUE_BUCKET_TOTAL,
  FEATURE_VALUE_LABELS,
} from "../../shared/drift/metric-names.js";
import { parseExactJson } from "../../shared/exact-json.js";
import { OnlineStore } from "../../shared/online-store/index.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { HybridLogicalClock } from "../../shared/versions/index.js";
import { DRIFT_SERVICE, driftBaseline, driftRepo, OTHER_SERVICE } from "../support/drift-repo.js";
import { queryPrometheus, stackPrometheusUrl, waitForQuery } from "../support/prometheus.js";
import { startServeProcess, type ServeProcess } from "../support/serve-process.js";
import { uniqueProject, waitFor } from "../support/store.js";

const CITIES = ["paris", "rome", "lyon", "oslo"];
/** Drivers 1..60 have rows; 61..65 have none (served as null). */
const WRITTEN = 60;

interface Series {
  labels: Record<string, string>;
  value: number;
}

/** The recorder's series in a /metrics text. */
function parseSeries(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${FEATURE_VALUE_BUCKET_TOTAL}{`)) continue;
    const match = /^[a-z_]+\{(.*)\} (\S+)$/.exec(line);
    assert.ok(match, `unparsed line ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of match[1]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]!] = pair[2]!;
    out.push({ labels, value: Number(match[2]) });
  }
  return out;
}

describe("drift recording at serving", () => {
  const project = uniqueProject("driftserve");
  const registry = new FeatureRegistry(driftRepo(project));
  const baseline = driftBaseline(project, "b1");
  let redis: Redis;
  let serve: ServeProcess;

  before(async () => {
    redis = new Redis(resolveEndpoints().redis.address);
    const store = await OnlineStore.open({ client: redis, registry, hotCache: false });
    const clock = new HybridLogicalClock();
    await store.write(
      Array.from({ length: WRITTEN }, (_, i) => {
        const id = i + 1;
        return {
          view: "drift_stats",
          entity: { driver_id: id },
          values: {
            // Rates on and around the edges 0.25, 0.5, 0.75; one null.
            rate: id === 7 ? null : [0.1, 0.25, 0.3, 0.5, 0.75, 0.9][id % 6],
            // An int64 beyond 2^53 in the top bucket, and 10 and 100 on their edges.
            trips: id === 8 ? 2n ** 60n : [3, 10, 50, 100, 500][id % 5],
            city: CITIES[id % 4],
            active: id % 3 === 0,
            tags: ["a"],
          },
          version: { eventTsMs: Date.now(), epoch: 0, hlc: clock.now(), originRegion: "a" },
        };
      }),
    );
    await store.close();
    await publishBaseline(redis, baseline);
    serve = await startServeProcess({
      project,
      topology: "standalone",
      region: "a",
      kafka: false,
      env: {
        STRATA_REPO: "test/support/drift-repo-module.ts",
        STRATA_DRIFT_MONITOR: DRIFT_SERVICE,
        STRATA_DRIFT_SAMPLE_RATE: "1",
        STRATA_DRIFT_REFRESH_MS: "1000",
      },
    });
  });

  after(async () => {
    await serve?.stop();
    await redis.del(
      activeBaselinesKey(project),
      `fs:{${project}}:drift:baseline:${DRIFT_SERVICE}:b1`,
      `fs:{${project}}:drift:baseline:${DRIFT_SERVICE}:b2`,
    );
    redis.disconnect();
  });

  async function getFeatures(body: unknown): Promise<unknown> {
    const response = await fetch(`${serve.url}/get-online-features`, {
      method: "POST",
      headers: { authorization: `Bearer ${serve.key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    return parseExactJson(text);
  }

  async function scrape(): Promise<Series[]> {
    const response = await fetch(`${serve.adminUrl}/metrics`);
    return parseSeries(await response.text());
  }

  /** Per feature and bucket, what the responses served, bucketed by the baseline's definition. */
  function expectedCounts(served: Map<string, unknown[]>, of: DriftBaseline): Map<string, number> {
    const counts = new Map<string, number>();
    for (const feature of of.features) {
      if (feature.name.endsWith(":tags")) continue; // a list: not recorded
      const short = feature.name.split(":")[1]!;
      for (let b = 0; b < feature.expected.length; b++) counts.set(`${feature.name} ${b}`, 0);
      for (const value of served.get(short) ?? []) {
        const key = `${feature.name} ${bucketIndex(feature, value)}`;
        counts.set(key, counts.get(key)! + 1);
      }
    }
    return counts;
  }

  it("counts every value it served for the monitored service in its baseline bucket, exactly", async () => {
    const served = new Map<string, unknown[]>();
    const entityBatches = [
      ...Array.from({ length: 65 }, (_, i) => [i + 1]),
      Array.from({ length: 65 }, (_, i) => i + 1),
      [3, 3, 3, 64],
    ];
    for (const ids of entityBatches) {
      const response = (await getFeatures({
        feature_service: DRIFT_SERVICE,
        entities: { driver_id: ids },
      })) as { metadata: { feature_names: string[] }; results: { values: unknown[] }[] };
      response.metadata.feature_names.forEach((name, i) => {
        if (name === "driver_id") return;
        served.set(name, [...(served.get(name) ?? []), ...response.results[i]!.values]);
      });
    }
    // Not recorded: a feature list, and a service that is not monitored.
    await getFeatures({
      features: ["drift_stats:rate", "drift_stats:city"],
      entities: { driver_id: [1, 2] },
    });
    await getFeatures({ feature_service: OTHER_SERVICE, entities: { driver_id: [1, 2] } });

    const series = await scrape();
    const actual = new Map(series.map((s) => [`${s.labels.feature} ${s.labels.bucket}`, s.value]));
    assert.deepEqual(actual, expectedCounts(served, baseline));
    // Every value at an edge, null, and the int64 beyond 2^53 was among them.
    assert.equal(served.get("rate")!.length, 65 + 65 + 4);
    assert.ok(served.get("trips")!.includes(2n ** 60n));
    assert.ok(actual.get("drift_stats@1:rate 4")! > 0, "nulls were counted in the null bucket");
  });

  it("labels its series with the bounded set only: no entity key, no request text", async () => {
    await getFeatures({ feature_service: DRIFT_SERVICE, entities: { driver_id: [987654321] } });
    const series = await scrape();
    // 4 + 1 rate buckets, 3 + 1 trips, 2 + 2 city, 2 + 2 active (tags, a list, has none).
    assert.equal(series.length, 17);
    for (const { labels } of series) {
      assert.deepEqual(Object.keys(labels).sort(), [...FEATURE_VALUE_LABELS].sort());
      assert.equal(labels.project, project);
      assert.equal(labels.region, "a");
      assert.equal(labels.feature_service, DRIFT_SERVICE);
      assert.equal(labels.baseline, "b1");
      assert.match(labels.bucket!, /^[0-4]$/);
      assert.ok(!Object.values(labels).some((v) => v.includes("987654321")));
    }
  });

  it("picks up a newly published baseline on its next refresh, under the new baseline's label", async () => {
    await publishBaseline(redis, driftBaseline(project, "b2"));
    await waitFor(
      async () => {
        await getFeatures({ feature_service: DRIFT_SERVICE, entities: { driver_id: [1] } });
        return (await scrape()).some((s) => s.labels.baseline === "b2" && s.value > 0);
      },
      15_000,
      "series of baseline b2",
      250,
    );
  });

  it("is scraped by the stack's Prometheus, with the region label", async (t) => {
    const url = stackPrometheusUrl();
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (!ready) {
      t.skip(`the stack's Prometheus is not running at ${url} (npm run stack -- up starts it)`);
      return;
    }
    // startServeProcess registered its admin port (job strata-serve, region a).
    const instance = new URL(serve.adminUrl).host;
    const selector = `${FEATURE_VALUE_BUCKET_TOTAL}{project="${project}"}`;
    const exported = (await scrape()).length;
    const series = await waitForQuery(url, selector, (s) => s.length === exported);
    for (const { labels } of series) {
      assert.equal(labels.job, "strata-serve");
      assert.equal(labels.instance, instance);
      // The process's own region label, kept as it is (not renamed exported_region).
      assert.equal(labels.region, "a");
      assert.ok(!("exported_region" in labels), JSON.stringify(labels));
    }
    const perFeature = await queryPrometheus(url, `sum by (feature) (${selector})`);
    assert.deepEqual(perFeature.map((s) => s.labels.feature).sort(), [
      "drift_stats@1:active",
      "drift_stats@1:city",
      "drift_stats@1:rate",
      "drift_stats@1:trips",
    ]);
    assert.ok(perFeature.every((s) => s.value > 0));
  });
});

// npm run bench -- drift: one full drift evaluation of 1,000 monitored features (4 models x 250
// numeric features, 10 quantile buckets + null) over 3 regions' series in a real Prometheus
// (a private /usr/bin/prometheus of this run scraping 3 synthetic exporters every 5 s, one per
// region, 33,000 series), baselines in a private redis-server.
//   evaluate          runDriftCheck: read the baselines, query Prometheus (one query per model,
//                     per region and across regions), score every feature, decide (no Argo)
//   floor_prometheus  the same PromQL queries alone, sent in parallel in the same run
import { Redis } from "ioredis";
import { loadDriftConfig } from "../functions/drift/config.js";
import { runDriftCheck, windowQuery } from "../functions/drift/drift-run.js";
import { buildBaseline } from "../shared/drift/baseline-build.js";
import { publishBaseline } from "../shared/drift/baseline-store.js";
import { bucketCount, type DriftBaseline } from "../shared/drift/baseline.js";
import { queryVector } from "../shared/drift/prometheus-client.js";
import { BucketExporter } from "../test/support/bucket-exporter.js";
import { PrivatePrometheus } from "../test/support/private-prometheus.js";
import { startStandalone } from "../test/support/redis-process.js";
import type { BenchTableRow } from "./run.js";
import { median, round, seededRandom } from "./_stats.js";

export const description =
  "one drift evaluation of 1,000 features x 3 regions in a real Prometheus vs the same PromQL queries alone";

const REGIONS = ["a", "b", "c"];
const MODELS = 4;
const FEATURES_PER_MODEL = 250;
const RUNS = 5;
const WINDOW_MS = 60_000;
const SCRAPE_S = 5;
const project = `benchdrift${process.pid}`;

function baselines(): DriftBaseline[] {
  const random = seededRandom(27);
  return Array.from({ length: MODELS }, (_, m) =>
    buildBaseline({
      project,
      model: `model${m}`,
      modelVersion: "1",
      featureService: `service${m}`,
      source: "synthetic",
      createdAt: "2026-01-01T00:00:00Z",
      columns: Array.from({ length: FEATURES_PER_MODEL }, (_, f) => ({
        name: `view${m}@1:f${f}`,
        kind: "numeric" as const,
        values: Array.from({ length: 2_000 }, () => random() * 100),
      })),
    }),
  );
}

export async function run(log: (line: string) => void) {
  const redisServer = await startStandalone();
  const redis = new Redis(redisServer.url);
  const exporters = await Promise.all(REGIONS.map(() => BucketExporter.start()));
  let prometheus: PrivatePrometheus | undefined;
  try {
    const all = baselines();
    for (const b of all) await publishBaseline(redis, b);
    const random = seededRandom(7);
    let series = 0;
    const each = (
      fn: (b: DriftBaseline, r: number, f: DriftBaseline["features"][number]) => void,
    ) => {
      for (const b of all)
        for (let r = 0; r < REGIONS.length; r++) for (const f of b.features) fn(b, r, f);
    };
    const key = (b: DriftBaseline, r: number, name: string) => ({
      project,
      region: REGIONS[r]!,
      feature_service: b.featureService,
      feature: name,
      baseline: b.baselineVersion,
    });
    each((b, r, f) => {
      exporters[r]!.declare(key(b, r, f.name), bucketCount(f));
      series += bucketCount(f);
    });
    // A 5 s scrape interval: 1 s over 33,000 series would spend the machine's cores on scraping.
    prometheus = await PrivatePrometheus.start(
      exporters.map((e) => e.target),
      SCRAPE_S,
    );
    await prometheus.waitForTargets(REGIONS.length, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 2.2 * SCRAPE_S * 1000));
    each((b, r, f) => {
      exporters[r]!.add(
        key(b, r, f.name),
        f.expected.map((p) => Math.round(p * 1_000 * (0.8 + 0.4 * random()))),
      );
    });
    await new Promise((resolve) => setTimeout(resolve, 2.2 * SCRAPE_S * 1000));
    log(
      `${MODELS * FEATURES_PER_MODEL} features, ${series} series in Prometheus ${prometheus.url}`,
    );
    const config = loadDriftConfig({
      STRATA_PROJECT: project,
      STRATA_REGION: "a",
      STRATA_PROMETHEUS_URL: prometheus.url,
      REDIS_URL: redisServer.url,
      STRATA_DRIFT_WINDOW: `${WINDOW_MS / 1000}s`,
    });
    const windowEndMs = Date.now();
    const evaluate: number[] = [];
    const floor: number[] = [];
    let features = 0;
    for (let i = 0; i < RUNS; i++) {
      let started = performance.now();
      const report = await runDriftCheck(config, { windowEndMs });
      evaluate.push((performance.now() - started) / 1000);
      features = report.models.reduce(
        (n, m) => n + m.features.filter((f) => f.level !== "insufficient").length,
        0,
      );
      started = performance.now();
      await Promise.all(
        all.map((b) =>
          queryVector(prometheus!.url, windowQuery(project, b, WINDOW_MS), { timeMs: windowEndMs }),
        ),
      );
      floor.push((performance.now() - started) / 1000);
      log(
        `run ${i + 1}: evaluate ${evaluate[i]!.toFixed(3)} s (${features} features scored), floor ${floor[i]!.toFixed(3)} s`,
      );
    }
    const results = {
      evaluate: { features, regions: REGIONS.length, series, seconds: round(median(evaluate), 3) },
      floor_prometheus: { seconds: round(median(floor), 3) },
      runs: RUNS,
    };
    const table: BenchTableRow[] = [
      { measurement: "evaluate (median s)", value: results.evaluate.seconds },
      { measurement: "floor_prometheus (median s)", value: results.floor_prometheus.seconds },
      { measurement: "features scored", value: features },
      { measurement: "series", value: series },
    ];
    return { results, table };
  } finally {
    await prometheus?.stop();
    await Promise.all(exporters.map((e) => e.stop()));
    redis.disconnect();
    await redisServer.stop();
  }
}

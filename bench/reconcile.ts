// npm run bench -- reconcile: digest comparison of two regions holding the same 100,000 rows,
// each region a private standalone redis-server of this run.
//   reconcile        reconcileRegions over both regions (SCAN, pipelined HMGET of version
//                    fields, per-slot digests, drill-down): rows compared per second
//   floor_scan_hmget  raw ioredis over the same keys: SCAN both regions in parallel with the
//                    same SCAN COUNT (5,000) and pipelined HMGET of the same version field, no digest
//   one_divergent    the same comparison with one key changed in one region (dry run):
//                    finding it, including the key-level drill-down
import { Redis } from "ioredis";
import { OnlineStore } from "../shared/online-store/index.js";
import { reconcileRegions, type ReconcileReport } from "../shared/reconcile/index.js";
import { FeatureRegistry } from "../shared/registry/index.js";
import { HybridLogicalClock } from "../shared/versions/index.js";
import { startStandalone } from "../test/support/redis-process.js";
import type { BenchTableRow } from "./run.js";
import { benchRepo, benchRows } from "./_bench-repo.js";
import { scanVersionsFloor } from "./_scan-floor.js";
import { median, round } from "./_stats.js";

export const description =
  "reconcile digest comparison of two regions (100,000 identical rows each) vs raw SCAN + pipelined HMGET of the same version fields";

const ROWS = 100_000;
const RUNS = 5;
const registry = new FeatureRegistry(benchRepo(`benchrec${process.pid}`));
const view = registry.view("bench_view");

export async function run(log: (line: string) => void) {
  const servers = await Promise.all([startStandalone(), startStandalone()]);
  const clients = servers.map((s) => new Redis(s.url));
  try {
    const clock = new HybridLogicalClock();
    const rows = benchRows(ROWS, clock);
    for (const client of clients) {
      const store = await OnlineStore.open({ client, registry, hotCache: false });
      for (let i = 0; i < rows.length; i += 1_000) await store.write(rows.slice(i, i + 1_000));
      await store.close();
    }
    log(`loaded ${ROWS} identical rows into each of two private redis-servers`);
    const regions = clients.map((client, i) => ({ name: `r${i}`, client }));
    const reconcileRates: number[] = [];
    const floorRates: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const started = performance.now();
      const report = await reconcileRegions({
        registry,
        regions,
        views: [view],
        publisher: () => Promise.reject(new Error("nothing to publish")),
      });
      const seconds = (performance.now() - started) / 1000;
      if (report.outcome !== "converged" || report.keysCompared !== ROWS) {
        throw new Error(`expected ${ROWS} identical rows, got ${JSON.stringify(summary(report))}`);
      }
      reconcileRates.push(ROWS / seconds);
      floorRates.push(ROWS / (await scanVersionsFloor(clients, registry, view, ROWS)));
      log(
        `run ${r + 1}: reconcile ${Math.round(reconcileRates[r]!)} keys/s, floor ${Math.round(floorRates[r]!)} keys/s`,
      );
    }
    // One key changed in one region, written around any changelog.
    const changed = benchRows(1, clock)[0]!;
    await (async () => {
      const store = await OnlineStore.open({ client: clients[1]!, registry, hotCache: false });
      await store.write([{ ...changed, values: { ...changed.values, f0: -1 } }]);
      await store.close();
    })();
    const started = performance.now();
    const divergent = await reconcileRegions({
      registry,
      regions,
      views: [view],
      dryRun: true,
      publisher: () => Promise.reject(new Error("dry run")),
    });
    const divergentMs = performance.now() - started;
    const keysPerS = Math.round(median(reconcileRates));
    const floorKeysPerS = Math.round(median(floorRates));
    const results = {
      rows_per_region: ROWS,
      runs: RUNS,
      "reconcile.keys_per_s": keysPerS,
      floor_scan_hmget_keys_per_s: floorKeysPerS,
      reconcile_share_of_floor: round(keysPerS / floorKeysPerS, 3),
      one_divergent: {
        found: divergent.divergent,
        ms: Math.round(divergentMs),
        ranges_compared: divergent.views[0]!.rangesCompared,
      },
      target_keys_per_s: 50_000,
    };
    const table: BenchTableRow[] = [
      { measurement: "reconcile (keys/s)", median: keysPerS, note: "target >= 50,000" },
      {
        measurement: "floor_scan_hmget (keys/s)",
        median: floorKeysPerS,
        note: "raw SCAN + pipelined HMGET",
      },
      { measurement: "reconcile / floor", median: results.reconcile_share_of_floor, note: "" },
      {
        measurement: "one_divergent (ms)",
        median: results.one_divergent.ms,
        note: `found ${divergent.divergent} key, ${results.one_divergent.ranges_compared} ranges compared`,
      },
    ];
    return { results, table };
  } finally {
    for (const client of clients) client.disconnect();
    await Promise.all(servers.map((s) => s.stop()));
  }
}

function summary(report: ReconcileReport) {
  return {
    outcome: report.outcome,
    keysCompared: report.keysCompared,
    divergent: report.divergent,
  };
}

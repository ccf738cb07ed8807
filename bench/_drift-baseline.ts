// The drift baseline of the serve benchmark's feature service: ten edges per feature, all
// below the values the l1_hit request is served (item 7's features are 7 to 8.3), so that
// every value's bucket search walks all ten edges: the most a numeric feature costs.
import type { DriftBaseline } from "../shared/drift/baseline.js";
import { BENCH_FEATURES, BENCH_SERVICE } from "./_bench-repo.js";

const EDGES = Array.from({ length: 10 }, (_, i) => (i + 1) / 2);

export function benchBaseline(project: string): DriftBaseline {
  const valueBuckets = EDGES.length + 1;
  return {
    format: 1,
    project,
    model: "bench_model",
    modelVersion: "1",
    featureService: BENCH_SERVICE,
    baselineVersion: "bench1",
    createdAt: new Date(0).toISOString(),
    source: "bench/_drift-baseline.ts",
    rows: 0,
    features: BENCH_FEATURES.map((f) => ({
      name: `bench_view@1:${f}`,
      kind: "numeric" as const,
      edges: EDGES,
      expected: [...Array<number>(valueBuckets).fill(1 / valueBuckets), 0],
    })),
  };
}

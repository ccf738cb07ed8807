// The feature repo the benchmarks use: views of 10 float64 features keyed by an int64.
import { defineRepo, type FeatureRepoDefinition } from "../shared/registry/index.js";

export const BENCH_FEATURES = Array.from({ length: 10 }, (_, i) => `f${i}`);

export function benchRepo(project: string): FeatureRepoDefinition {
  return defineRepo({
    project,
    entities: [{ name: "item", joinKeys: { item_id: "int64" } }],
    views: [
      {
        name: "bench_view",
        version: "1.0.0",
        entities: ["item"],
        features: Object.fromEntries(BENCH_FEATURES.map((f) => [f, "float64"])),
        maxAgeMs: 86_400_000,
      },
      {
        // The same features, written synchronously (acks=all, and applied when asked).
        name: "bench_critical",
        version: "1.0.0",
        entities: ["item"],
        features: Object.fromEntries(BENCH_FEATURES.map((f) => [f, "float64"])),
        maxAgeMs: 86_400_000,
        criticality: "critical",
      },
    ],
  });
}

/** As a module for the serving process (STRATA_REPO), named by BENCH_PROJECT. */
export default benchRepo(process.env.BENCH_PROJECT ?? "benchserve");

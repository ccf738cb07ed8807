// The feature repo the serve benchmark serves: one view of 10 float64 features.
import { defineRepo } from "../shared/registry/index.js";

export const BENCH_FEATURES = Array.from({ length: 10 }, (_, i) => `f${i}`);

export default defineRepo({
  project: process.env.BENCH_PROJECT ?? "benchserve",
  entities: [{ name: "item", joinKeys: { item_id: "int64" } }],
  views: [
    {
      name: "bench_view",
      version: "1.0.0",
      entities: ["item"],
      features: Object.fromEntries(BENCH_FEATURES.map((f) => [f, "float64"])),
      maxAgeMs: 86_400_000,
    },
  ],
});

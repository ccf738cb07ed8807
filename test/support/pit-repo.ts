// A feature repo for training-set tests, as a module so that `strata training-set --repo`
// can load it too: two views with different join key types and maxAges.
import { defineRepo } from "../../shared/registry/index.js";

export const PIT_PROJECT = "spark_pit";

export default defineRepo({
  project: PIT_PROJECT,
  entities: [
    { name: "driver", joinKeys: { driver_id: "int64" } },
    { name: "zone", joinKeys: { zone_id: "string" } },
  ],
  views: [
    {
      name: "stats",
      version: "1.2.0",
      entities: ["driver"],
      features: { trips: "int64", rate: "float64", note: "string" },
      maxAgeMs: 4_000,
    },
    {
      name: "zone",
      version: "2.0.0",
      entities: ["zone"],
      features: { level: "int32" },
      maxAgeMs: 7_000,
    },
  ],
  services: [
    { name: "pit_model", features: ["stats:trips", "stats:rate", "stats:note", "zone@2:level"] },
  ],
});

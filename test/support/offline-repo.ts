import type { FeatureRepoDefinition } from "../../shared/registry/index.js";

/** Every Feast type once (and lists of several), plus a view keyed by a string and an int32. */
export function offlineTestRepo(project: string): FeatureRepoDefinition {
  return {
    project,
    entities: [
      { name: "driver", joinKeys: { driver_id: "int64" } },
      { name: "zone", joinKeys: { city: "string", zone_id: "int32" } },
    ],
    views: [
      {
        name: "driver_all",
        version: "1.0.0",
        entities: ["driver"],
        features: {
          i32: "int32",
          i64: "int64",
          f32: "float32",
          f64: "float64",
          s: "string",
          b: "bytes",
          ok: "bool",
          ts: "unix_timestamp",
          tags: "string[]",
          nums: "int64[]",
          flags: "bool[]",
          blobs: "bytes[]",
        },
        maxAgeMs: 86_400_000,
      },
      {
        name: "zone_load",
        version: "2.0.0",
        entities: ["zone"],
        features: { load: "float64" },
        maxAgeMs: 86_400_000,
      },
    ],
    pushSources: [
      { name: "driver_push", views: ["driver_all@1"] },
      { name: "zone_push", views: ["zone_load@2"] },
    ],
  };
}

// The Strata side of the Feast compatibility suite: the same entities, views, feature service
// and push source as test/feast/feature_repo/definitions.py declares for Feast (keep the two
// in step). The project comes from STRATA_TEST_PROJECT, unique per run.
import { defineRepo, SCALAR_TYPES, type FeatureType } from "../../shared/registry/index.js";

const project = process.env.STRATA_TEST_PROJECT;
if (!project) throw new Error("STRATA_TEST_PROJECT is not set");

/** Feast's ttl of the views (3650 days): nothing the suite writes is outside max age. */
const MAX_AGE_MS = 3650 * 86_400_000;
/** Feast's names for the scalar types' features: f_<type> and l_<type>, `ts` for unix_timestamp. */
const short = (type: string) => (type === "unix_timestamp" ? "ts" : type);

export default defineRepo({
  project,
  entities: [{ name: "driver", joinKeys: { driver_id: "int64" } }],
  views: [
    {
      name: "driver_stats",
      version: "1.0.0",
      entities: ["driver"],
      features: { conv_rate: "float64", acc_rate: "float32", trips: "int64", label: "string" },
      maxAgeMs: MAX_AGE_MS,
    },
    {
      name: "all_types",
      version: "1.0.0",
      entities: ["driver"],
      features: [
        ...SCALAR_TYPES.map((type) => ({ name: `f_${short(type)}`, type: type })),
        ...SCALAR_TYPES.map((type) => ({
          name: `l_${short(type)}`,
          type: `${type}[]` as FeatureType,
        })),
      ],
      maxAgeMs: MAX_AGE_MS,
      // One critical view: Feast's write endpoint must honour criticality as /push does.
      criticality: "critical",
    },
  ],
  services: [
    { name: "driver_service", features: ["driver_stats:conv_rate", "driver_stats:trips"] },
  ],
  pushSources: [{ name: "driver_stats_push", views: ["driver_stats"] }],
});

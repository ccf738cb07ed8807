// An example feature repo: the ride-hailing features Feast's quickstart uses, plus a
// second, incompatible major of the driver stats that a model under test reads side by side.
import { defineEntity, defineRepo } from "../shared/registry/index.js";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const driver = defineEntity({ name: "driver", joinKeys: { driver_id: "int64" } });
const customer = defineEntity({ name: "customer", joinKeys: { customer_id: "string" } });

export default defineRepo({
  project: "demo",
  entities: [driver, customer],
  views: [
    {
      name: "driver_hourly_stats",
      version: "1.3.0",
      entities: [driver],
      features: { conv_rate: "float32", acc_rate: "float32", avg_daily_trips: "int64" },
      maxAgeMs: DAY_MS,
      criticality: "standard",
      description: "Hourly driver conversion and acceptance rates.",
    },
    {
      // v2 computes the rates over a 7-day window: incompatible with v1, so a new major.
      name: "driver_hourly_stats",
      version: "2.0.0",
      entities: [driver],
      features: {
        conv_rate: "float64",
        acc_rate: "float64",
        avg_daily_trips: "int64",
        trip_ids_last_hour: "int64[]",
      },
      maxAgeMs: DAY_MS,
      criticality: "standard",
    },
    {
      name: "customer_profile",
      version: "1.0.0",
      entities: [customer],
      features: {
        segment: "string",
        lifetime_trips: "int64",
        is_vip: "bool",
        signup_ts: "unix_timestamp",
        avatar_thumb: "bytes",
      },
      maxAgeMs: 30 * DAY_MS,
      criticality: "critical",
    },
  ],
  services: [
    {
      name: "driver_activity_v1",
      features: [
        "driver_hourly_stats@1:conv_rate",
        "driver_hourly_stats@1:acc_rate",
        "driver_hourly_stats@1:avg_daily_trips",
      ],
    },
    {
      name: "driver_activity_v2",
      features: [
        "driver_hourly_stats@2:conv_rate",
        "driver_hourly_stats@2:acc_rate",
        "driver_hourly_stats@2:trip_ids_last_hour",
      ],
    },
  ],
  // Feast's push source: one push writes both majors while a model migrates between them
  // (each takes its own columns; see docs/changelog.md).
  pushSources: [
    { name: "driver_stats_push", views: ["driver_hourly_stats@1", "driver_hourly_stats@2"] },
  ],
});

import type { FeatureRepoDefinition } from "../../shared/registry/index.js";

const MIN = 60_000;

/** Lateness of the parity test's aggregation view: short, so random histories have too-late events. */
export const PARITY_LATENESS_MS = 2 * MIN;

/**
 * A card's velocity over pushed events, every aggregation function once, windows of several
 * tile sizes; and a plain view of the same entity, for training sets mixing both.
 */
export function parityRepo(project: string): FeatureRepoDefinition {
  return {
    project,
    entities: [{ name: "card", joinKeys: { card_id: "int64" } }],
    views: [
      {
        name: "card_profile",
        version: "1.0.0",
        entities: ["card"],
        features: { limit: "float64" },
        maxAgeMs: 86_400_000,
      },
    ],
    aggregationViews: [
      {
        name: "card_velocity",
        version: "1.0.0",
        entities: ["card"],
        inputs: { amount: "float64", qty: "int64" },
        source: { push: true },
        allowedLatenessMs: PARITY_LATENESS_MS,
        aggregations: [
          { name: "n_10m", function: "count", windowMs: 10 * MIN, tileMs: MIN },
          {
            name: "amount_10m",
            function: "sum",
            column: "amount",
            windowMs: 10 * MIN,
            tileMs: MIN,
          },
          { name: "qty_5m", function: "sum", column: "qty", windowMs: 5 * MIN, tileMs: MIN },
          {
            name: "mean_30m",
            function: "mean",
            column: "amount",
            windowMs: 30 * MIN,
            tileMs: 5 * MIN,
          },
          {
            name: "min_10m",
            function: "min",
            column: "amount",
            windowMs: 10 * MIN,
            tileMs: 2 * MIN,
          },
          { name: "max_qty_10m", function: "max", column: "qty", windowMs: 10 * MIN, tileMs: MIN },
          {
            name: "last3",
            function: "last_n",
            column: "amount",
            n: 3,
            windowMs: 10 * MIN,
            tileMs: MIN,
          },
        ],
      },
    ],
    services: [
      {
        name: "fraud_model",
        features: ["card_profile:limit", "card_velocity:n_10m", "card_velocity:last3"],
      },
    ],
  };
}

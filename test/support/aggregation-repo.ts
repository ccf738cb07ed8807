import type { FeatureRepoDefinition } from "../../shared/registry/index.js";

/** A repo with one aggregation view using every function, short windows, for tests. */
export function aggregationTestRepo(
  project: string,
  source: FeatureRepoDefinition["aggregationViews"] extends (infer V)[] | undefined
    ? V extends { source: infer S }
      ? S
      : never
    : never = { push: true },
): FeatureRepoDefinition {
  return {
    project,
    entities: [{ name: "card", joinKeys: { card_id: "string" } }],
    views: [],
    aggregationViews: [
      {
        name: "card_velocity",
        version: "1.0.0",
        entities: ["card"],
        inputs: { amount: "float64", cents: "int64", merchant: "string" },
        source,
        allowedLatenessMs: 120_000,
        aggregations: [
          { name: "tx_5m", function: "count", windowMs: 300_000, tileMs: 60_000 },
          {
            name: "amount_5m",
            function: "sum",
            column: "amount",
            windowMs: 300_000,
            tileMs: 60_000,
          },
          {
            name: "cents_10m",
            function: "sum",
            column: "cents",
            windowMs: 600_000,
            tileMs: 120_000,
          },
          {
            name: "mean_5m",
            function: "mean",
            column: "amount",
            windowMs: 300_000,
            tileMs: 60_000,
          },
          {
            name: "min_cents_10m",
            function: "min",
            column: "cents",
            windowMs: 600_000,
            tileMs: 60_000,
          },
          {
            name: "max_amount_5m",
            function: "max",
            column: "amount",
            windowMs: 300_000,
            tileMs: 60_000,
          },
          {
            name: "last_merchants",
            function: "last_n",
            column: "merchant",
            n: 3,
            windowMs: 600_000,
            tileMs: 120_000,
          },
        ],
      },
    ],
  };
}

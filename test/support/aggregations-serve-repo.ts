// The feature repo of the aggregation serving tests: a card's last transaction (a plain view)
// and its velocity (an aggregation view over pushed transactions), written by one push source
// and read together by one feature service.
import type { FeatureRepoDefinition } from "../../shared/registry/index.js";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function aggregationsServeRepo(project: string): FeatureRepoDefinition {
  return {
    project,
    entities: [{ name: "card", joinKeys: { card_id: "string" } }],
    views: [
      {
        name: "card_last",
        version: "1.0.0",
        entities: ["card"],
        features: { amount: "float64", merchant: "string" },
        maxAgeMs: 30 * DAY,
      },
    ],
    aggregationViews: [
      {
        name: "card_txn",
        version: "1.0.0",
        entities: ["card"],
        inputs: { amount: "float64", merchant: "string", qty: "int64" },
        source: { push: true },
        aggregations: [
          { name: "n_1m", function: "count", windowMs: MINUTE, tileMs: SECOND },
          { name: "n_10m", function: "count", windowMs: 10 * MINUTE, tileMs: MINUTE },
          {
            name: "amount_1h",
            function: "sum",
            column: "amount",
            windowMs: HOUR,
            tileMs: 5 * MINUTE,
          },
          {
            name: "mean_10m",
            function: "mean",
            column: "amount",
            windowMs: 10 * MINUTE,
            tileMs: MINUTE,
          },
          { name: "max_1h", function: "max", column: "amount", windowMs: HOUR, tileMs: 5 * MINUTE },
          { name: "min_qty_1d", function: "min", column: "qty", windowMs: DAY, tileMs: HOUR },
          { name: "qty_1d", function: "sum", column: "qty", windowMs: DAY, tileMs: HOUR },
          {
            name: "last5",
            function: "last_n",
            column: "amount",
            n: 5,
            windowMs: DAY,
            tileMs: HOUR,
          },
        ],
        // Events are pushed in random order over a day: none of them may be too late.
        allowedLatenessMs: 2 * DAY,
      },
    ],
    services: [
      {
        name: "fraud",
        features: [
          "card_last:amount",
          "card_txn:n_10m",
          "card_txn:amount_1h",
          "card_txn:mean_10m",
          "card_txn:max_1h",
          "card_txn:min_qty_1d",
          "card_txn:qty_1d",
          "card_txn:last5",
        ],
      },
    ],
    pushSources: [{ name: "card_push", views: ["card_last", "card_txn"] }],
  };
}

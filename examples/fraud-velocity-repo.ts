// A fraud-scoring feature repo: a card's transaction velocity as rolling window aggregates
// over pushed card transactions, beside a plain view of the card's last transaction, both
// written by one push source and read by one feature service (docs/aggregations.md).
import { defineEntity, defineRepo } from "../shared/registry/index.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const card = defineEntity({ name: "card", joinKeys: { card_id: "string" } });

export default defineRepo({
  project: "fraud",
  entities: [card],
  views: [
    {
      name: "card_last_txn",
      version: "1.0.0",
      entities: [card],
      features: { amount: "float64", merchant: "string" },
      maxAgeMs: 30 * DAY,
      description: "The card's last transaction, as pushed.",
    },
  ],
  aggregationViews: [
    {
      name: "card_txn",
      version: "1.0.0",
      entities: [card],
      inputs: { amount: "float64", merchant: "string" },
      source: { push: true },
      // Tiles a tenth to a twenty-fourth of their window: the window edge is exact to a tile,
      // and a read asks for every tile of every window it reads.
      aggregations: [
        { name: "txn_count_10m", function: "count", windowMs: 10 * MINUTE, tileMs: MINUTE },
        { name: "txn_count_1h", function: "count", windowMs: HOUR, tileMs: 5 * MINUTE },
        { name: "txn_count_1d", function: "count", windowMs: DAY, tileMs: HOUR },
        {
          name: "amount_sum_10m",
          function: "sum",
          column: "amount",
          windowMs: 10 * MINUTE,
          tileMs: MINUTE,
        },
        {
          name: "amount_sum_1h",
          function: "sum",
          column: "amount",
          windowMs: HOUR,
          tileMs: 5 * MINUTE,
        },
        { name: "amount_sum_1d", function: "sum", column: "amount", windowMs: DAY, tileMs: HOUR },
        {
          name: "amount_max_1h",
          function: "max",
          column: "amount",
          windowMs: HOUR,
          tileMs: 5 * MINUTE,
        },
        {
          name: "last_5_amounts",
          function: "last_n",
          column: "amount",
          n: 5,
          windowMs: DAY,
          tileMs: HOUR,
        },
      ],
      allowedLatenessMs: 5 * MINUTE,
      description: "Card transaction velocity over 10 minutes, 1 hour and 1 day.",
    },
  ],
  services: [
    {
      name: "fraud_model_v1",
      features: [
        "card_last_txn:amount",
        "card_txn:txn_count_10m",
        "card_txn:txn_count_1h",
        "card_txn:txn_count_1d",
        "card_txn:amount_sum_10m",
        "card_txn:amount_sum_1h",
        "card_txn:amount_sum_1d",
        "card_txn:amount_max_1h",
        "card_txn:last_5_amounts",
      ],
    },
  ],
  // One push writes the last transaction and the velocity event (each takes its columns).
  pushSources: [{ name: "card_transactions", views: ["card_last_txn", "card_txn"] }],
});

// A feature repo module (STRATA_REPO) for the test of aggregations over a CDC source: a
// transactions table captured from the stack's PostgreSQL (STRATA_TEST_CDC_TABLE) feeding the
// aggregation view card_spend; the project comes from STRATA_TEST_PROJECT.
import type { FeatureRepoDefinition } from "../../shared/registry/index.js";

export function cdcAggregationRepo(project: string, table: string): FeatureRepoDefinition {
  return {
    project,
    entities: [{ name: "card", joinKeys: { card_id: "int64" } }],
    views: [],
    cdcSources: [{ name: "txns", database: "local", table: `public.${table}` }],
    aggregationViews: [
      {
        name: "card_spend",
        version: "1.0.0",
        entities: ["card"],
        inputs: { amount: "float64" },
        source: { cdc: "txns", keyColumns: { card_id: "card" }, timestampColumn: "at" },
        aggregations: [
          { name: "txn_count_1h", function: "count", windowMs: 3_600_000, tileMs: 60_000 },
          {
            name: "amount_sum_1h",
            function: "sum",
            column: "amount",
            windowMs: 3_600_000,
            tileMs: 60_000,
          },
          {
            name: "amount_max_1h",
            function: "max",
            column: "amount",
            windowMs: 3_600_000,
            tileMs: 60_000,
          },
        ],
        allowedLatenessMs: 3_600_000,
      },
    ],
  };
}

const project = process.env.STRATA_TEST_PROJECT;
const table = process.env.STRATA_TEST_CDC_TABLE;

export default project && table ? cdcAggregationRepo(project, table) : undefined;

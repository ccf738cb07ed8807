// The feature repo of the CDC tests: a `cards` table captured from the stack's PostgreSQL into
// the view card_profile (renamed and default-named columns, a feature whose column the table
// gains later).
import type { FeatureRepoDefinition } from "../../shared/registry/index.js";

export function cdcTestRepo(project: string, table: string): FeatureRepoDefinition {
  return {
    project,
    entities: [{ name: "card", joinKeys: { card_id: "int64" } }],
    views: [
      {
        name: "card_profile",
        version: "1.0.0",
        entities: ["card"],
        features: {
          limit_amount: "float64",
          status: "string",
          // No such column at first: null until a test adds it to the table.
          nickname: "string",
        },
        maxAgeMs: 86_400_000,
        source: {
          cdc: "cards",
          keyColumns: { card_id: "id" },
          columns: { limit_amount: "credit_limit" },
        },
      },
    ],
    cdcSources: [{ name: "cards", database: "local", table: `public.${table}` }],
  };
}

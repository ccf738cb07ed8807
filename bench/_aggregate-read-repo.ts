// The aggregate read benchmark's feature repo: a plain view and an aggregation view of the
// same entity, each read one feature at a time (bench/_aggregate-read-bench.ts).
import { aggregateFields, tileField, watermarkField } from "../shared/aggregations/index.js";
import { encodeEntityKey, entityRedisKey } from "../shared/key-codec.js";
import {
  defineRepo,
  type FeatureRegistry,
  type FeatureRepoDefinition,
} from "../shared/registry/index.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The aggregate read: a sum over one hour in one-minute tiles (60 tiles and the watermark). */
export const AGGREGATE_FEATURE = "txn_agg:amount_1h";
/** The plain read of the same entity: one float64 feature. */
export const PLAIN_FEATURE = "txn_last:amount";

export function aggregateReadRepo(project: string): FeatureRepoDefinition {
  return defineRepo({
    project,
    entities: [{ name: "card", joinKeys: { card_id: "int64" } }],
    views: [
      {
        name: "txn_last",
        version: "1.0.0",
        entities: ["card"],
        features: { amount: "float64" },
        maxAgeMs: 86_400_000,
      },
    ],
    aggregationViews: [
      {
        name: "txn_agg",
        version: "1.0.0",
        entities: ["card"],
        inputs: { amount: "float64" },
        source: { push: true },
        aggregations: [
          { name: "amount_1h", function: "sum", column: "amount", windowMs: HOUR, tileMs: MINUTE },
        ],
      },
    ],
  });
}

/**
 * The hash fields of card `cardId`'s aggregate state for every tile a read may ask for from
 * `fromMs` to `untilMs`, as the apply script keeps them (CONTRACTS.md "Aggregation state"): a
 * read benchmark needs the tiles there, not the way they got there.
 */
export function aggregateState(
  registry: FeatureRegistry,
  cardId: number,
  fromMs: number,
  untilMs: number,
): { key: string; fields: Record<string, string> } {
  const view = registry.aggregationView("txn_agg");
  const fields: Record<string, string> = { [watermarkField(view.key)]: String(untilMs) };
  for (let k = Math.floor((fromMs - HOUR) / MINUTE); k <= Math.floor(untilMs / MINUTE); k++) {
    fields[tileField(view.key, "amount_1h", k)] = String(cardId + (k % 97) / 4);
  }
  return { key: cardKey(registry, cardId), fields };
}

/** What a read of AGGREGATE_FEATURE asks Redis for at `nowMs`: the floor reads the same. */
export function aggregateReadFields(registry: FeatureRegistry, nowMs: number): string[] {
  const view = registry.aggregationView("txn_agg");
  return aggregateFields(view.key, view.aggregation.aggregations, nowMs);
}

export function cardKey(registry: FeatureRegistry, cardId: number): string {
  const view = registry.view("txn_last");
  return entityRedisKey(
    registry.project,
    view.entitySet,
    encodeEntityKey(view.joinKeys, { card_id: cardId }),
  );
}

/** As a module for the serving process (STRATA_REPO), named by BENCH_PROJECT. */
export default aggregateReadRepo(process.env.BENCH_PROJECT ?? "benchaggread");

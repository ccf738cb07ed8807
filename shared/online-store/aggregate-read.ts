/**
 * Aggregates on the read path (docs/aggregations.md, "Reading aggregates"): a read at time t
 * asks, in the entity's one HMGET, for each requested aggregation view's watermark and every
 * tile of each requested window (shared/aggregations' read plan), and folds the tiles in this
 * process. Nothing is precomputed per window, so any read time gives its window.
 */
import { computeAggregates } from "../aggregations/compute.js";
import { aggregateFields } from "../aggregations/read-plan.js";
import type { ResolvedAggregation } from "../registry/aggregation-view.js";
import type { ResolvedView } from "../registry/feature-registry.js";

/** The fields of some aggregates of one aggregation view major, for reads in one set of tiles. */
export interface AggregatePlan {
  aggregations: readonly ResolvedAggregation[];
  /** The watermark, then each aggregate's tiles (shared/aggregations/read-plan.ts). */
  fields: readonly string[];
}

/** One aggregate of one entity, as stored text of its output type, and the row's event time. */
export interface AggregateAnswer {
  /**
   * The value as text of the output feature's codec ("" is null); undefined when the entity has
   * no aggregation state (no watermark: it never had an event), which reads as NOT_FOUND.
   */
  text: string | undefined;
  /** The entity's watermark: the newest event time the view has applied for it. */
  watermarkMs: number | null;
}

interface PlanMemo {
  /** The last tile of each requested aggregate at the read time the plan was built for. */
  lastTiles: string;
  plan: AggregatePlan;
}

/** Plans by requested aggregate list (the read path's stable per-list arrays). */
const plans = new WeakMap<readonly number[], PlanMemo>();

/**
 * The HMGET fields of `indexes` (positions in `view.aggregation.aggregations`) for a read at
 * `nowMs`. Built once per set of current tiles: the fields change only when the read time
 * enters a new tile of one of the aggregates, and a read of a day's hourly tiles would
 * otherwise build dozens of field names per request.
 */
export function aggregatePlan(
  view: ResolvedView,
  indexes: readonly number[],
  nowMs: number,
): AggregatePlan {
  const all = view.aggregation!.aggregations;
  let lastTiles = "";
  for (const i of indexes) lastTiles += `${Math.floor(nowMs / all[i]!.tileMs)},`;
  const memo = plans.get(indexes);
  if (memo !== undefined && memo.lastTiles === lastTiles) return memo.plan;
  const aggregations = indexes.map((i) => all[i]!);
  const plan = { aggregations, fields: aggregateFields(view.key, aggregations, nowMs) };
  plans.set(indexes, { lastTiles, plan });
  return plan;
}

/**
 * Folds the HMGET reply of a plan's fields (from `offset` in `reply`) into one answer per
 * requested aggregate, in request order.
 */
export function foldAggregates(
  plan: AggregatePlan,
  reply: readonly (string | null)[],
  offset: number,
): AggregateAnswer[] {
  const own = reply.slice(offset, offset + plan.fields.length);
  const { hasState, texts } = computeAggregates(plan.aggregations, own);
  const watermarkMs = hasState ? Number(own[0]) : null;
  return texts.map((text) => ({ text: hasState ? text : undefined, watermarkMs }));
}

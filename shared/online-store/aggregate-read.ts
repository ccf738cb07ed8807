/**
 * Reading rolling window aggregates from the tiles the apply script keeps in the entity's hash
 * (docs/aggregations.md, "Reading aggregates"). A read at time t asks, in the entity's one
 * HMGET, for the view's watermark and every tile of each requested window, and folds the tiles
 * here: nothing is precomputed per window, so any read time gives its window.
 */
import { meanTileFields, tileField, watermarkField } from "../aggregations/redis-fields.js";
import { windowTiles } from "../aggregations/window-math.js";
import type { ResolvedAggregation } from "../registry/aggregation-view.js";
import type { ResolvedView } from "../registry/feature-registry.js";

/** The fields of some aggregates of one aggregation view major, for reads in one set of tiles. */
export interface AggregatePlan {
  /** The watermark, then each aggregate's tiles (a mean's counts, then its sums). */
  fields: readonly string[];
  /** Per requested aggregate, in request order: where its tile fields start in `fields`. */
  slices: readonly { aggregation: ResolvedAggregation; start: number }[];
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
 * enters a new tile of one of the aggregates.
 */
export function aggregatePlan(
  view: ResolvedView,
  indexes: readonly number[],
  nowMs: number,
): AggregatePlan {
  const aggregations = view.aggregation!.aggregations;
  let lastTiles = "";
  for (const i of indexes) lastTiles += `${Math.floor(nowMs / aggregations[i]!.tileMs)},`;
  const memo = plans.get(indexes);
  if (memo !== undefined && memo.lastTiles === lastTiles) return memo.plan;
  const fields: string[] = [watermarkField(view.key)];
  const slices = indexes.map((i) => {
    const aggregation = aggregations[i]!;
    const start = fields.length;
    const { first, last } = windowTiles(nowMs, aggregation.windowMs, aggregation.tileMs);
    if (aggregation.function === "mean") {
      for (let k = first; k <= last; k++)
        fields.push(meanTileFields(view.key, aggregation.name, k).count);
      for (let k = first; k <= last; k++)
        fields.push(meanTileFields(view.key, aggregation.name, k).sum);
    } else {
      for (let k = first; k <= last; k++) fields.push(tileField(view.key, aggregation.name, k));
    }
    return { aggregation, start };
  });
  const plan = { fields, slices };
  plans.set(indexes, { lastTiles, plan });
  return plan;
}

/**
 * Folds the HMGET reply of a plan's fields (from `offset` in `reply`) into one answer per
 * requested aggregate, in request order (docs/aggregations.md, "Reading aggregates").
 */
export function foldAggregates(
  plan: AggregatePlan,
  reply: readonly (string | null)[],
  offset: number,
): AggregateAnswer[] {
  const watermark = reply[offset] ?? null;
  if (watermark === null) {
    return plan.slices.map(() => ({ text: undefined, watermarkMs: null }));
  }
  const watermarkMs = Number(watermark);
  return plan.slices.map(({ aggregation, start }) => ({
    text: foldTiles(aggregation, reply, offset + start),
    watermarkMs,
  }));
}

/** One window's value from its tiles (absent tiles had no events), as output-codec text. */
function foldTiles(
  aggregation: ResolvedAggregation,
  reply: readonly (string | null)[],
  from: number,
): string {
  const tiles = aggregation.tiles;
  switch (aggregation.function) {
    case "count":
      return String(sumNumbers(reply, from, tiles));
    case "sum":
      return aggregation.integerSum
        ? sumIntegers(reply, from, tiles).toString()
        : String(sumNumbers(reply, from, tiles));
    case "mean": {
      const count = sumNumbers(reply, from, tiles);
      if (count === 0) return "";
      const sum = aggregation.integerSum
        ? Number(sumIntegers(reply, from + tiles, tiles))
        : sumNumbers(reply, from + tiles, tiles);
      return String(sum / count);
    }
    case "min":
    case "max":
      return extreme(aggregation, reply, from, tiles);
    case "last_n":
      return lastN(aggregation, reply, from, tiles);
  }
}

function sumNumbers(reply: readonly (string | null)[], from: number, count: number): number {
  let total = 0;
  for (let i = from; i < from + count; i++) {
    const text = reply[i];
    if (text !== null && text !== undefined) total += Number(text);
  }
  return total;
}

/** Integer sums stay exact past 2^53: the apply script keeps them with HINCRBY. */
function sumIntegers(reply: readonly (string | null)[], from: number, count: number): bigint {
  let total = 0n;
  for (let i = from; i < from + count; i++) {
    const text = reply[i];
    if (text !== null && text !== undefined) total += BigInt(text);
  }
  return total;
}

/** The smallest (min) or largest (max) tile value, as its stored text; "" (null) over no tile. */
function extreme(
  aggregation: ResolvedAggregation,
  reply: readonly (string | null)[],
  from: number,
  count: number,
): string {
  const max = aggregation.function === "max";
  // int64 values past 2^53 compare exactly as bigints; the other types are doubles.
  const exact = aggregation.column?.type === "int64";
  let best: string | undefined;
  for (let i = from; i < from + count; i++) {
    const text = reply[i];
    if (text === null || text === undefined || text === "") continue;
    if (best === undefined) {
      best = text;
      continue;
    }
    const order = exact ? compareBigInt(text, best) : Number(text) - Number(best);
    if (max ? order > 0 : order < 0) best = text;
  }
  return best ?? "";
}

function compareBigInt(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A last_n tile entry: [eventTsMs, sourceTopic, partition, offset, value-codec text]. */
type LastEntry = [number, string, number, number, string];

/**
 * The n newest values of the window's tiles, newest first, ordered by (event time, source
 * topic, partition, offset) as the apply script orders each tile; an empty list over no tile.
 */
function lastN(
  aggregation: ResolvedAggregation,
  reply: readonly (string | null)[],
  from: number,
  count: number,
): string {
  const entries: LastEntry[] = [];
  for (let i = from; i < from + count; i++) {
    const text = reply[i];
    if (text !== null && text !== undefined && text !== "") {
      for (const entry of JSON.parse(text) as LastEntry[]) entries.push(entry);
    }
  }
  entries.sort(newestFirst);
  const column = aggregation.column!;
  const values = entries.slice(0, aggregation.n).map((entry) => column.codec.decode(entry[4]));
  return aggregation.output.codec.encode(values);
}

function newestFirst(a: LastEntry, b: LastEntry): number {
  if (a[0] !== b[0]) return b[0] - a[0];
  if (a[1] !== b[1]) return a[1] < b[1] ? 1 : -1;
  if (a[2] !== b[2]) return b[2] - a[2];
  return b[3] - a[3];
}

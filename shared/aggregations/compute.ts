import type { ResolvedAggregation } from "../registry/aggregation-view.js";

/** An entity's aggregates at one time: value-codec texts of each aggregate's output type. */
export interface AggregateRow {
  /** Whether the entity has aggregation state (a watermark): without it every aggregate is NOT_FOUND. */
  hasState: boolean;
  /** One text per aggregation, in the order asked; "" is null (mean/min/max of no events). */
  texts: string[];
}

/** One last_n entry as stored: `[eventTsMs, sourceTopic, partition, offset, valueText]`. */
export type LastNEntry = [number, string, number, number, string];

/** Orders last_n entries newest first: by event time, then source topic, partition, offset. */
export function newestFirst(a: LastNEntry, b: LastNEntry): number {
  if (a[0] !== b[0]) return b[0] - a[0];
  if (a[1] !== b[1]) return a[1] < b[1] ? 1 : -1;
  if (a[2] !== b[2]) return b[2] - a[2];
  return b[3] - a[3];
}

/**
 * Folds one HMGET reply (fields from aggregateFields with the same aggregations) into the
 * aggregates. Integer sums and integer min/max are exact (BigInt): int64 values past 2^53
 * must not round.
 */
export function computeAggregates(
  aggregations: readonly ResolvedAggregation[],
  reply: readonly (string | null)[],
): AggregateRow {
  const hasState = reply[0] !== null && reply[0] !== undefined;
  const texts: string[] = [];
  let at = 1;
  for (const agg of aggregations) {
    const width = agg.function === "mean" ? 2 * agg.tiles : agg.tiles;
    const tiles = reply.slice(at, at + width);
    at += width;
    texts.push(hasState ? fold(agg, tiles) : "");
  }
  return { hasState, texts };
}

function fold(agg: ResolvedAggregation, tiles: readonly (string | null | undefined)[]): string {
  switch (agg.function) {
    case "count":
      return sumIntegers(tiles).toString();
    case "sum":
      return agg.integerSum
        ? sumIntegers(tiles).toString()
        : agg.output.codec.encode(sumFloats(tiles));
    case "mean": {
      const counts = tiles.filter((_, i) => i % 2 === 0);
      const sums = tiles.filter((_, i) => i % 2 === 1);
      const count = sumIntegers(counts);
      if (count === 0n) return "";
      const sum = agg.integerSum ? Number(sumIntegers(sums)) : sumFloats(sums);
      return agg.output.codec.encode(sum / Number(count));
    }
    case "min":
    case "max":
      return extreme(agg, tiles);
    case "last_n":
      return lastN(agg, tiles);
  }
}

function sumIntegers(tiles: readonly (string | null | undefined)[]): bigint {
  let total = 0n;
  for (const tile of tiles) if (tile) total += BigInt(tile);
  return total;
}

function sumFloats(tiles: readonly (string | null | undefined)[]): number {
  let total = 0;
  for (const tile of tiles) if (tile) total += Number(tile);
  return total;
}

function extreme(agg: ResolvedAggregation, tiles: readonly (string | null | undefined)[]): string {
  const integer = agg.column!.type !== "float32" && agg.column!.type !== "float64";
  const better = agg.function === "min" ? -1 : 1;
  let best: string | undefined;
  for (const tile of tiles) {
    if (!tile) continue;
    if (best === undefined) {
      best = tile;
      continue;
    }
    const order = integer
      ? compareBig(BigInt(tile), BigInt(best))
      : Math.sign(Number(tile) - Number(best));
    if (order === better) best = tile;
  }
  return best ?? "";
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function lastN(agg: ResolvedAggregation, tiles: readonly (string | null | undefined)[]): string {
  const entries: LastNEntry[] = [];
  for (const tile of tiles) if (tile) entries.push(...(JSON.parse(tile) as LastNEntry[]));
  entries.sort(newestFirst);
  const codec = agg.column!.codec;
  const values = entries.slice(0, agg.n).map((entry) => codec.decode(entry[4]));
  return agg.output.codec.encode(values);
}

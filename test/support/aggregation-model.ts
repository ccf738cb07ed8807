import {
  newestFirst,
  tileIndex,
  windowTiles,
  type LastNEntry,
} from "../../shared/aggregations/index.js";
import type { ResolvedAggregation } from "../../shared/registry/aggregation-view.js";
import type { ResolvedAggregationView } from "../../shared/registry/feature-registry.js";

/** An event of the brute-force model: what the log holds, with its origin. */
export interface ModelEvent {
  entity: string;
  eventTsMs: number;
  sourceTopic: string;
  partition: number;
  offset: number;
  /** Input values by column name (null for a null input); int64 as decimal text. */
  values: Record<string, string | number | null>;
}

/**
 * The ideal semantics (CONTRACTS.md), by brute force: each entity's events taken once, in
 * offset order; an event older than the entity's highest applied event time minus the allowed
 * lateness is late and not applied; the rest are all kept, nothing is tiled.
 */
export function idealApply(
  view: ResolvedAggregationView,
  log: readonly ModelEvent[],
): { applied: Map<string, ModelEvent[]>; late: ModelEvent[] } {
  const applied = new Map<string, ModelEvent[]>();
  const wm = new Map<string, number>();
  const late: ModelEvent[] = [];
  for (const event of log) {
    const w = wm.get(event.entity);
    if (w !== undefined && event.eventTsMs < w - view.aggregation.allowedLatenessMs) {
      late.push(event);
      continue;
    }
    wm.set(event.entity, Math.max(w ?? -Infinity, event.eventTsMs));
    const list = applied.get(event.entity) ?? [];
    list.push(event);
    applied.set(event.entity, list);
  }
  return { applied, late };
}

/** An aggregate computed straight from the applied events, as the read path should give it. */
export type ModelValue = bigint | number | string | null | (string | number | bigint)[];

export function bruteForce(
  agg: ResolvedAggregation,
  events: readonly ModelEvent[] | undefined,
  nowMs: number,
): ModelValue | undefined {
  if (!events || events.length === 0) return undefined; // NOT_FOUND
  const { first, last } = windowTiles(nowMs, agg.windowMs, agg.tileMs);
  const inWindow = events.filter((e) => {
    const k = tileIndex(e.eventTsMs, agg.tileMs);
    return k >= first && k <= last;
  });
  if (agg.function === "count") return BigInt(inWindow.length);
  const column = agg.column!;
  const present = inWindow.filter((e) => e.values[column.name] !== null);
  const integer = column.type === "int32" || column.type === "int64";
  const value = (e: ModelEvent) => e.values[column.name]!;
  switch (agg.function) {
    case "sum":
      return integer
        ? present.reduce((s, e) => s + BigInt(value(e)), 0n)
        : present.reduce((s, e) => s + Number(value(e)), 0);
    case "mean":
      if (present.length === 0) return null;
      return (
        present.reduce((s, e) => s + Number(integer ? BigInt(value(e)) : value(e)), 0) /
        present.length
      );
    case "min":
    case "max": {
      if (present.length === 0) return null;
      const sorted = present
        .map(value)
        .sort((a, b) =>
          integer
            ? BigInt(a) < BigInt(b)
              ? -1
              : BigInt(a) > BigInt(b)
                ? 1
                : 0
            : Number(a) - Number(b),
        );
      const pick = agg.function === "min" ? sorted[0]! : sorted[sorted.length - 1]!;
      return integer ? BigInt(pick) : Number(pick);
    }
    case "last_n": {
      const entries: LastNEntry[] = present.map((e) => [
        e.eventTsMs,
        e.sourceTopic,
        e.partition,
        e.offset,
        String(value(e)),
      ]);
      return entries
        .sort(newestFirst)
        .slice(0, agg.n)
        .map((entry) => entry[4]);
    }
  }
}

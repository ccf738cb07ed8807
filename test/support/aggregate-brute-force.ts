// What a read of an aggregate must answer, computed from the events themselves rather than
// from tiles (CONTRACTS.md "Aggregation semantics"): a read at t of a window W with tile T
// counts the events of tiles kt - W/T < k <= kt, kt = floor(t / T).
import type { AggregationDefinition, FeatureType } from "../../shared/registry/index.js";

/** One pushed event of the test's aggregation view; event times are unique per entity. */
export interface PushedTxn {
  card: string;
  ts: number;
  amount: number | null;
  merchant: string | null;
  qty: number | null;
}

/** A feature's expected answer as Feast's JSON carries it. */
export interface Expected {
  value: unknown;
  status: "PRESENT" | "NULL_VALUE" | "NOT_FOUND";
  /** Epoch ms of the expected event timestamp; null for NOT_FOUND. */
  eventTsMs: number | null;
}

export function expectedAggregate(
  aggregation: AggregationDefinition,
  events: readonly PushedTxn[],
  nowMs: number,
): Expected {
  if (events.length === 0) return { value: null, status: "NOT_FOUND", eventTsMs: null };
  const watermark = Math.max(...events.map((e) => e.ts));
  const kt = Math.floor(nowMs / aggregation.tileMs);
  const tiles = aggregation.windowMs / aggregation.tileMs;
  const inWindow = events.filter((e) => {
    const k = Math.floor(e.ts / aggregation.tileMs);
    return k > kt - tiles && k <= kt;
  });
  const column = aggregation.column as keyof PushedTxn | undefined;
  const withValue = inWindow.filter((e) => column !== undefined && e[column] !== null);
  const values = withValue.map((e) => e[column!] as number);
  const present = (value: unknown): Expected => ({
    value,
    status: value === null ? "NULL_VALUE" : "PRESENT",
    eventTsMs: watermark,
  });
  switch (aggregation.function) {
    case "count":
      return present(inWindow.length);
    case "sum":
      return present(values.reduce((s, v) => s + v, 0));
    case "mean":
      return present(
        values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length,
      );
    case "min":
      return present(values.length === 0 ? null : Math.min(...values));
    case "max":
      return present(values.length === 0 ? null : Math.max(...values));
    case "last_n":
      return present(
        [...withValue]
          .sort((a, b) => b.ts - a.ts)
          .slice(0, aggregation.n)
          .map((e) => e[column!]),
      );
  }
}

/** The plain view's expected answer: the values of the entity's event with the latest time. */
export function expectedLast(
  feature: "amount" | "merchant",
  events: readonly PushedTxn[],
): Expected {
  if (events.length === 0) return { value: null, status: "NOT_FOUND", eventTsMs: null };
  const last = events.reduce((a, b) => (b.ts > a.ts ? b : a));
  const value = last[feature];
  return { value, status: value === null ? "NULL_VALUE" : "PRESENT", eventTsMs: last.ts };
}

/** Whether two answers agree: floats within a relative 1e-9 (sums fold tiles in another order). */
export function sameValue(got: unknown, want: unknown, type?: FeatureType): boolean {
  if (typeof got === "number" && typeof want === "number") {
    return type === "int64"
      ? got === want
      : Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want));
  }
  if (Array.isArray(got) && Array.isArray(want)) {
    return got.length === want.length && got.every((g, i) => sameValue(g, want[i]));
  }
  return got === want;
}

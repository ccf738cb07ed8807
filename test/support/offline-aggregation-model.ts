// A brute-force model of what the online store serves for an aggregation view (CONTRACTS.md
// "Aggregation semantics"), from the deliveries of its events in the order the consumer got
// them. Tests compare the offline training set (and the online reads) with it.

export interface ModelEvent {
  entity: string;
  ts: number;
  topic: string;
  partition: number;
  offset: number;
  /** Input values by column; null is a null value. */
  values: Record<string, number | null>;
}

export interface ModelAggregation {
  name: string;
  function: "count" | "sum" | "mean" | "min" | "max" | "last_n";
  column?: string;
  n?: number;
  windowMs: number;
  tileMs: number;
}

interface EntityState {
  wm: number;
  offsets: Map<string, number>;
  applied: ModelEvent[];
}

/** The apply rules: lateness first, then the per-partition offset check, per entity. */
export class AggregationModel {
  private readonly entities = new Map<string, EntityState>();
  readonly tooLate: ModelEvent[] = [];
  /** Events applied although older than their entity's watermark (late, within the lateness). */
  lateApplied = 0;

  constructor(private readonly allowedLatenessMs: number) {}

  deliver(event: ModelEvent): void {
    const state = this.entities.get(event.entity);
    if (state && event.ts < state.wm - this.allowedLatenessMs) {
      this.tooLate.push(event);
      return;
    }
    const at = `${event.topic}\u0000${event.partition}`;
    const last = state?.offsets.get(at);
    if (last !== undefined && event.offset <= last) return;
    const next: EntityState = state ?? { wm: event.ts, offsets: new Map(), applied: [] };
    if (event.ts < next.wm) this.lateApplied += 1;
    next.wm = Math.max(next.wm, event.ts);
    next.offsets.set(at, event.offset);
    next.applied.push(event);
    this.entities.set(event.entity, next);
  }

  /**
   * The value at time t: events applied with event time in [(kt - W/T + 1) * T, t]; null when
   * the entity has no applied event at or before t (NOT_FOUND).
   */
  value(entity: string, t: number, aggregation: ModelAggregation): unknown {
    const applied = (this.entities.get(entity)?.applied ?? []).filter((e) => e.ts <= t);
    if (applied.length === 0) return null;
    const { tileMs, windowMs } = aggregation;
    const start = (Math.floor(t / tileMs) - windowMs / tileMs + 1) * tileMs;
    const inWindow = applied.filter((e) => e.ts >= start);
    if (aggregation.function === "count") return inWindow.length;
    const values = inWindow
      .map((e) => ({ e, v: e.values[aggregation.column!] ?? null }))
      .filter((x): x is { e: ModelEvent; v: number } => x.v !== null);
    switch (aggregation.function) {
      case "sum":
        return values.reduce((s, x) => s + x.v, 0);
      case "mean":
        return values.length === 0 ? null : values.reduce((s, x) => s + x.v, 0) / values.length;
      case "min":
        return values.length === 0 ? null : Math.min(...values.map((x) => x.v));
      case "max":
        return values.length === 0 ? null : Math.max(...values.map((x) => x.v));
      case "last_n":
        return values
          .sort((a, b) => newestFirst(a.e, b.e))
          .slice(0, aggregation.n)
          .map((x) => x.v);
    }
  }
}

/** last_n's order: (event time, topic, partition, offset), newest first. */
function newestFirst(a: ModelEvent, b: ModelEvent): number {
  if (a.ts !== b.ts) return b.ts - a.ts;
  if (a.topic !== b.topic) return a.topic < b.topic ? 1 : -1;
  if (a.partition !== b.partition) return b.partition - a.partition;
  return b.offset - a.offset;
}

/** Float sums may differ in the last bits by summation order; everything else is exact. */
export function sameAggregate(fn: ModelAggregation["function"], a: unknown, b: unknown): boolean {
  if ((fn === "sum" || fn === "mean") && typeof a === "number" && typeof b === "number") {
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

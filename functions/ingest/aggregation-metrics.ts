import { Counter, Gauge, Registry } from "prom-client";
import type {
  AggregationObserver,
  AggregationOutcome,
} from "../../shared/aggregations/aggregation-consumer.js";

/**
 * The aggregation consumer's Prometheus metrics (docs/aggregations.md, "Operating"). Labels
 * are bounded: view majors of the registry, the consumer's own topics, stable error codes.
 */
export class AggregationMetrics implements AggregationObserver {
  readonly registry = new Registry();
  private readonly applied_: Counter<"view">;
  private readonly duplicates: Counter<"view">;
  private readonly late: Counter<"view">;
  private readonly deadLetters: Counter<"code">;
  private readonly lagRecords: Gauge<"topic" | "partition">;
  private readonly eventLag: Gauge<"topic">;
  private readonly retries: Counter;

  constructor() {
    const registers = [this.registry];
    this.applied_ = new Counter({
      name: "strata_aggregation_events_applied_total",
      help: "Aggregation events applied to their entity's tiles, by view major",
      labelNames: ["view"],
      registers,
    });
    this.duplicates = new Counter({
      name: "strata_aggregation_duplicate_events_total",
      help: "Aggregation events redelivered at or below their source partition's applied offset, skipped",
      labelNames: ["view"],
      registers,
    });
    this.late = new Counter({
      name: "strata_aggregation_late_events_total",
      help: "Aggregation events older than their entity's watermark minus the allowed lateness: not applied, dead-lettered (STRATA_E_AGGREGATION_TOO_LATE)",
      labelNames: ["view"],
      registers,
    });
    this.deadLetters = new Counter({
      name: "strata_aggregation_dead_letters_total",
      help: "Records the aggregation consumer sent to the dead-letter topic, by error code",
      labelNames: ["code"],
      registers,
    });
    this.lagRecords = new Gauge({
      name: "strata_aggregation_lag_records",
      help: "Records of an aggregation source partition not yet consumed (after the last fetched batch)",
      labelNames: ["topic", "partition"],
      registers,
    });
    this.eventLag = new Gauge({
      name: "strata_aggregation_event_lag_seconds",
      help: "Now minus the latest event time applied from the topic, at the last chunk",
      labelNames: ["topic"],
      registers,
    });
    this.retries = new Counter({
      name: "strata_aggregation_retries_total",
      help: "Chunks retried because Redis or the dead-letter topic failed (nothing is committed meanwhile)",
      registers,
    });
  }

  applied(outcome: AggregationOutcome): void {
    for (const [view, counts] of outcome.byView) {
      if (counts.applied > 0) this.applied_.inc({ view }, counts.applied);
      if (counts.duplicates > 0) this.duplicates.inc({ view }, counts.duplicates);
      if (counts.late > 0) this.late.inc({ view }, counts.late);
    }
    for (const r of outcome.rejected) this.deadLetters.inc({ code: r.error.code });
    if (outcome.maxEventTsMs !== undefined) {
      this.eventLag.set({ topic: outcome.topic }, (Date.now() - outcome.maxEventTsMs) / 1000);
    }
  }

  lag(topic: string, partition: number, records: number): void {
    this.lagRecords.set({ topic, partition: String(partition) }, records);
  }

  retry(): void {
    this.retries.inc();
  }
}

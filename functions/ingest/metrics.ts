import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { ApplyOutcome } from "../../shared/changelog/applier.js";
import type { ConsumerObserver, PartitionLag } from "../../shared/changelog/changelog-consumer.js";

/** Distinct feature names per view in strata_ingest_ignored_features_total, then "other". */
const IGNORED_FEATURE_LABELS = 20;
const OTHER_FEATURE = "(other)";

/** The regional consumer's Prometheus metrics: rows by outcome per view, and lag per partition. */
export class IngestMetrics implements ConsumerObserver {
  readonly registry = new Registry();
  private readonly rows: Counter<"view" | "outcome">;
  private readonly lagRecords: Gauge<"partition">;
  private readonly lagSeconds: Gauge<"partition" | "basis">;
  private readonly retries: Counter<"what">;
  private readonly ignored: Counter<"view" | "feature">;
  /** Feature labels of `ignored` so far, per view: records name them, so they are capped. */
  private readonly ignoredLabels = new Map<string, Set<string>>();

  /** Views of the registry: a poison record's key may name anything, and labels must stay bounded. */
  private readonly knownViews: ReadonlySet<string>;

  constructor(viewKeys: readonly string[]) {
    this.knownViews = new Set(viewKeys);
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "strata_ingest_" });
    this.rows = new Counter({
      name: "strata_ingest_rows_total",
      help: "Changelog records by view major and outcome: applied, stale (an equal or newer version was stored), concurrent (cross-region conflict, resolved by version), dead_lettered",
      labelNames: ["view", "outcome"],
      registers,
    });
    this.lagRecords = new Gauge({
      name: "strata_ingest_lag_records",
      help: "Records in the partition not yet applied",
      labelNames: ["partition"],
      registers,
    });
    this.lagSeconds = new Gauge({
      name: "strata_ingest_lag_seconds",
      help: "Applied time minus the last applied record's produce time (basis=produce) or newest event time (basis=event)",
      labelNames: ["partition", "basis"],
      registers,
    });
    this.ignored = new Counter({
      name: "strata_ingest_ignored_features_total",
      help: `Features that records carried and this consumer's view does not have (a record of another minor version), ignored; past ${IGNORED_FEATURE_LABELS} names per view they count as feature="${OTHER_FEATURE}"`,
      labelNames: ["view", "feature"],
      registers,
    });
    this.retries = new Counter({
      name: "strata_ingest_retries_total",
      help: "Retries while Redis (apply) or the dead-letter topic (reject) was unavailable",
      labelNames: ["what"],
      registers,
    });
  }

  applied(outcome: ApplyOutcome): void {
    for (const [view, counts] of outcome.byView) {
      if (counts.applied) this.rows.inc({ view, outcome: "applied" }, counts.applied);
      if (counts.stale) this.rows.inc({ view, outcome: "stale" }, counts.stale);
      if (counts.concurrent) this.rows.inc({ view, outcome: "concurrent" }, counts.concurrent);
    }
    for (const [view, byFeature] of outcome.ignoredFeatures ?? []) {
      for (const [feature, count] of byFeature) {
        this.ignored.inc({ view, feature: this.ignoredLabel(view, feature) }, count);
      }
    }
    for (const rejected of outcome.rejected) {
      const view = rejected.view && this.knownViews.has(rejected.view) ? rejected.view : "unknown";
      this.rows.inc({ view, outcome: "dead_lettered" });
    }
  }

  private ignoredLabel(view: string, feature: string): string {
    let labels = this.ignoredLabels.get(view);
    if (!labels) this.ignoredLabels.set(view, (labels = new Set<string>()));
    if (labels.has(feature)) return feature;
    if (labels.size >= IGNORED_FEATURE_LABELS) return OTHER_FEATURE;
    labels.add(feature);
    return feature;
  }

  lag(partition: number, lag: PartitionLag): void {
    const label = String(partition);
    this.lagRecords.set({ partition: label }, lag.records);
    this.lagSeconds.set({ partition: label, basis: "produce" }, lag.produceToAppliedMs / 1000);
    if (lag.eventToAppliedMs !== undefined) {
      this.lagSeconds.set({ partition: label, basis: "event" }, lag.eventToAppliedMs / 1000);
    }
  }

  /** Lag in records from the group's committed offsets: also right for idle partitions. */
  committedLag(partition: number, records: number): void {
    this.lagRecords.set({ partition: String(partition) }, records);
  }

  retry(what: "apply" | "reject"): void {
    this.retries.inc({ what });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

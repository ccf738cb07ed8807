import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ApplyOutcome } from "../../shared/changelog/applier.js";
import type {
  ChangelogSource,
  ConsumerObserver,
  PartitionLag,
} from "../../shared/changelog/changelog-consumer.js";

/** Distinct feature names per view in strata_ingest_ignored_features_total, then "other". */
const IGNORED_FEATURE_LABELS = 20;
const OTHER_FEATURE = "(other)";
/** The source_region of a topic outside the configuration (never expected: labels stay bounded). */
const OTHER_SOURCE = "unknown";
/**
 * Buckets of apply lag, in seconds: from a local apply (milliseconds) through cross-region
 * replication (sub-second to seconds) to a partitioned region catching up (minutes, hours).
 */
const APPLY_LAG_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600,
];

/**
 * The regional consumer's Prometheus metrics: rows by outcome per view, and lag per source
 * region (this region's changelog, or a peer's replicated copy) and partition.
 */
export class IngestMetrics implements ConsumerObserver {
  readonly registry = new Registry();
  private readonly rows: Counter<"view" | "outcome">;
  private readonly lagRecords: Gauge<"source_region" | "partition">;
  private readonly lagSeconds: Gauge<"source_region" | "partition" | "basis">;
  private readonly applyLag: Histogram<"source_region" | "basis">;
  private readonly retries: Counter<"what">;
  private readonly ignored: Counter<"view" | "feature">;
  /** Feature labels of `ignored` so far, per view: records name them, so they are capped. */
  private readonly ignoredLabels = new Map<string, Set<string>>();

  /**
   * Views of the registries served: a poison record's key may name anything, and labels must
   * stay bounded (by the registries' own views).
   */
  private readonly knownViews: Set<string>;
  /** This region and its configured peers: the only source_region values. */
  private readonly knownSources: ReadonlySet<string>;

  /** What /metrics renders: this registry and the others given (the registry observer's). */
  private readonly rendered: Registry;

  constructor(
    viewKeys: readonly string[],
    sourceRegions: readonly string[] = [],
    others: readonly Registry[] = [],
  ) {
    this.knownViews = new Set(viewKeys);
    this.knownSources = new Set(sourceRegions);
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
      help: "Records in the partition of the source region's changelog (this region's, or a peer's replicated copy) not yet applied",
      labelNames: ["source_region", "partition"],
      registers,
    });
    this.lagSeconds = new Gauge({
      name: "strata_ingest_lag_seconds",
      help: "Applied time minus the last applied record's produce time (basis=produce) or newest event time (basis=event), per source region and partition",
      labelNames: ["source_region", "partition", "basis"],
      registers,
    });
    this.applyLag = new Histogram({
      name: "strata_ingest_apply_lag_seconds",
      help: "Per applied chunk, its slowest record: applied time minus the earliest produce time (basis=produce; for a peer's record, replication plus apply, as the replicator keeps the timestamp) or the earliest event time (basis=event), per source region",
      labelNames: ["source_region", "basis"],
      buckets: APPLY_LAG_BUCKETS,
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
    // Last: merging copies the metrics registered so far.
    this.rendered = others.length > 0 ? Registry.merge([this.registry, ...others]) : this.registry;
  }

  /** Views of a registry swapped in: their dead letters are counted under their own name. */
  knowViews(viewKeys: readonly string[]): void {
    for (const key of viewKeys) this.knownViews.add(key);
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

  lag(partition: number, lag: PartitionLag, source: ChangelogSource): void {
    const labels = { source_region: this.sourceLabel(source.region), partition: String(partition) };
    this.lagRecords.set(labels, lag.records);
    this.lagSeconds.set({ ...labels, basis: "produce" }, lag.produceToAppliedMs / 1000);
    if (lag.eventToAppliedMs !== undefined) {
      this.lagSeconds.set({ ...labels, basis: "event" }, lag.eventToAppliedMs / 1000);
    }
    const sourceRegion = labels.source_region;
    this.applyLag.observe(
      { source_region: sourceRegion, basis: "produce" },
      Math.max(0, lag.maxProduceToAppliedMs) / 1000,
    );
    if (lag.maxEventToAppliedMs !== undefined) {
      this.applyLag.observe(
        { source_region: sourceRegion, basis: "event" },
        Math.max(0, lag.maxEventToAppliedMs) / 1000,
      );
    }
  }

  /** Lag in records from the group's committed offsets: also right for idle partitions. */
  committedLag(sourceRegion: string, partition: number, records: number): void {
    this.lagRecords.set(
      { source_region: this.sourceLabel(sourceRegion), partition: String(partition) },
      records,
    );
  }

  private sourceLabel(region: string): string {
    return this.knownSources.has(region) ? region : OTHER_SOURCE;
  }

  retry(what: "apply" | "reject"): void {
    this.retries.inc({ what });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.rendered.contentType, body: await this.rendered.metrics() };
  }
}

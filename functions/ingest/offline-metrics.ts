import { Counter, Gauge, Registry } from "prom-client";
import type { ChangelogSource } from "../../shared/changelog/changelog-consumer.js";

/**
 * The offline store writer's metrics: what the projector produced, what it skipped, how far
 * it is behind the changelog, and how far the Iceberg tables are behind the offline topic.
 */
export class OfflineMetrics {
  readonly registry = new Registry();
  private readonly projected: Counter<"view">;
  private readonly skipped: Counter<"source_region" | "code">;
  private readonly projectorLag: Gauge<"source_region">;
  private readonly commitLagRecords: Gauge;
  private readonly commitLagSeconds: Gauge;

  constructor(private readonly knownSources: ReadonlySet<string>) {
    const registers = [this.registry];
    this.projected = new Counter({
      name: "strata_offline_projected_total",
      help: "Changelog records projected to the offline topic (acknowledged), by view major",
      labelNames: ["view"],
      registers,
    });
    this.skipped = new Counter({
      name: "strata_offline_skipped_total",
      help: "Changelog records the projector could not project (the apply path dead-letters the same records), by source region and error code",
      labelNames: ["source_region", "code"],
      registers,
    });
    this.projectorLag = new Gauge({
      name: "strata_offline_projector_lag_records",
      help: "Changelog records (of this region's changelog or a peer's copy) the projector has not committed",
      labelNames: ["source_region"],
      registers,
    });
    this.commitLagRecords = new Gauge({
      name: "strata_offline_commit_lag_records",
      help: "Records of the offline topic not yet in an Iceberg table commit: end offsets minus the sink's committed offsets",
      registers,
    });
    this.commitLagSeconds = new Gauge({
      name: "strata_offline_commit_lag_seconds",
      help: "Age of the oldest record this process produced to the offline topic that the sink has not committed yet (0 when none)",
      registers,
    });
  }

  /** Views may be any string a record names: only views of the registry are counted by name. */
  projectedRecords(byView: ReadonlyMap<string, number>): void {
    for (const [view, count] of byView) this.projected.inc({ view }, count);
  }

  skippedRecord(source: ChangelogSource, code: string): void {
    this.skipped.inc({ source_region: this.source(source.region), code });
  }

  projectorLagRecords(region: string, records: number): void {
    this.projectorLag.set({ source_region: this.source(region) }, records);
  }

  commitLag(records: number, oldestUncommittedMs: number | undefined, nowMs: number): void {
    this.commitLagRecords.set(records);
    this.commitLagSeconds.set(
      oldestUncommittedMs === undefined ? 0 : Math.max(0, nowMs - oldestUncommittedMs) / 1000,
    );
  }

  private source(region: string): string {
    return this.knownSources.has(region) ? region : "unknown";
  }
}

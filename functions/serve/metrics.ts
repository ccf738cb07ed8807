import { METHODS } from "node:http";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ChangelogWriterStats } from "../../shared/changelog/changelog-writer.js";
import type { OnlineStoreStats } from "../../shared/online-store/index.js";

/**
 * Methods that get a label value of their own. Function adapters hand over whatever method
 * their platform received, and every distinct label value is a series kept forever.
 */
const KNOWN_METHODS = new Set(METHODS);

/** The serving tier's Prometheus metrics, in a registry of its own (never prom-client's global one). */
export class ServeMetrics {
  readonly registry = new Registry();
  private readonly duration: Histogram<"route" | "method" | "status">;
  /** Requests being answered now: a plain number on the request path, read at scrape time. */
  private inFlightNow = 0;
  private readonly redisErrors: Counter;
  private readonly degradedReads: Counter;
  private readonly degradedRows: Counter;
  /** Label children are looked up once per (route, method, status), not per request. */
  private readonly children = new Map<string, (seconds: number) => void>();

  /** What /metrics renders: this registry and the others given (the registry observer's). */
  private readonly rendered: Registry;

  constructor(
    storeStats: () => OnlineStoreStats,
    writerStats?: () => ChangelogWriterStats,
    others: readonly Registry[] = [],
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "strata_serve_" });
    this.duration = new Histogram({
      name: "strata_http_request_duration_seconds",
      help: "Time from a request's arrival to its response, by endpoint",
      labelNames: ["route", "method", "status"],
      // Microsecond-scale buckets: the hot-cache path answers in tens of microseconds.
      buckets: [
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2,
      ],
      registers,
    });
    const gauge = (name: string, help: string, read: () => number) =>
      scrapeTimeGauge(this.registry, name, help, read);
    gauge("strata_http_requests_in_flight", "Requests being answered now", () => this.inFlightNow);
    this.redisErrors = new Counter({
      name: "strata_redis_errors_total",
      help: "Reads that Redis could not answer",
      registers,
    });
    this.degradedReads = new Counter({
      name: "strata_degraded_reads_total",
      help: "Reads answered in part from the hot cache's last contents while Redis was unreachable",
      registers,
    });
    this.degradedRows = new Counter({
      name: "strata_degraded_rows_total",
      help: "Entity rows answered from the hot cache's last contents while Redis was unreachable (listed in strata.degraded)",
      registers,
    });
    const fromStats = (name: string, help: string, pick: (s: OnlineStoreStats) => number) =>
      gauge(name, help, () => pick(storeStats()));
    // Monotonic totals read from the store at scrape time (gauges, since prom-client counters cannot be set).
    fromStats(
      "strata_hot_cache_hits",
      "Hot cache lookups answered from memory (total)",
      (s) => s.cache?.hits ?? 0,
    );
    fromStats(
      "strata_hot_cache_misses",
      "Hot cache lookups that went to Redis (total)",
      (s) => s.cache?.misses ?? 0,
    );
    fromStats(
      "strata_hot_cache_evictions",
      "Entries evicted for space (total)",
      (s) => s.cache?.evictions ?? 0,
    );
    fromStats(
      "strata_hot_cache_invalidations",
      "Entries dropped on Redis' word that they changed (total)",
      (s) => s.cache?.invalidations ?? 0,
    );
    fromStats(
      "strata_hot_cache_flushes",
      "Whole-cache flushes, e.g. on losing the invalidation channel (total)",
      (s) => s.cache?.flushes ?? 0,
    );
    fromStats(
      "strata_hot_cache_entries",
      "Entries in the hot cache now",
      (s) => s.cache?.size ?? 0,
    );
    if (writerStats) {
      const fromWriter = (name: string, help: string, pick: (s: ChangelogWriterStats) => number) =>
        gauge(name, help, () => pick(writerStats()));
      fromWriter(
        "strata_changelog_queue_records",
        "Standard writes queued or in flight to Kafka now",
        (s) => s.queued,
      );
      fromWriter(
        "strata_changelog_records_acked",
        "Records Kafka acknowledged (total)",
        (s) => s.recordsAcked,
      );
      fromWriter(
        "strata_changelog_send_errors",
        "Failed sends to Kafka, each retried (total)",
        (s) => s.sendErrors,
      );
      fromWriter(
        "strata_changelog_records_refused",
        "Records Kafka refused for good (too large, not authorized): not written (total)",
        (s) => s.recordsRefused,
      );
    }
    // Last: merging copies the metrics registered so far.
    this.rendered = others.length > 0 ? Registry.merge([this.registry, ...others]) : this.registry;
  }

  /** One answered request: its duration, by endpoint, method and status (the histogram's _count counts them). */
  observe(route: string, method: string, status: number, startedMs: number): void {
    const methodLabel = KNOWN_METHODS.has(method) ? method : "other";
    const key = `${route}|${methodLabel}|${status}`;
    let observe = this.children.get(key);
    if (!observe) {
      const child = this.duration.labels(route, methodLabel, String(status));
      observe = (seconds) => child.observe(seconds);
      this.children.set(key, observe);
    }
    observe((performance.now() - startedMs) / 1000);
  }

  inFlightChange(delta: 1 | -1): void {
    this.inFlightNow += delta;
  }

  redisError(): void {
    this.redisErrors.inc();
  }

  /** A read that served `rows` entity rows from the degraded-read fallback. */
  degradedRead(rows: number): void {
    this.degradedReads.inc();
    this.degradedRows.inc(rows);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.rendered.contentType, body: await this.rendered.metrics() };
  }
}

/** A gauge whose value is read when Prometheus scrapes, not set on the request path. */
function scrapeTimeGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

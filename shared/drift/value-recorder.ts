import { Counter, Registry } from "prom-client";
import type { ResolvedFeatureRef } from "../registry/index.js";
import { bucketCount, type BaselineFeature, type DriftBaseline } from "./baseline.js";
import { compileBucketFunction, type BucketFunction } from "./bucket-function.js";
import {
  FEATURE_VALUE_BUCKET_TOTAL,
  FEATURE_VALUE_LABELS,
  type FeatureValueLabel,
} from "./metric-names.js";

/** What the recorder watches and how often (functions/serve reads these from the environment). */
export interface ValueRecorderOptions {
  /** The project every series is labelled with: the one the process serves. */
  project: string;
  /** The `region` label (STRATA_REGION). */
  region: string;
  /**
   * Feature services to record, each named by itself or by the model its baseline is for;
   * "all": every feature service that has a baseline (STRATA_DRIFT_MONITOR).
   */
  monitor: "all" | readonly string[];
  /** Share of requests recorded, decided once per request, 0 to 1 (STRATA_DRIFT_SAMPLE_RATE). */
  sampleRate: number;
  /** The sampling draw, in [0, 1): Math.random unless a test fixes it. */
  random?: () => number;
  /**
   * How long the series of a baseline that was replaced (or withdrawn) are still exported,
   * so that Prometheus scrapes their last counts before they go (default 10 minutes).
   */
  retireAfterMs?: number;
  /** Told about features a baseline names that cannot be recorded, once per service and registry. */
  onNotice?: (message: string, fields: Record<string, unknown>) => void;
}

/** An entity row as a read answers it: one value per requested feature, in request order. */
export interface ServedRow {
  readonly values: readonly unknown[];
}

interface CounterChild {
  inc(value?: number): void;
}

/** One baseline feature: where its buckets' pending counts live, and how a value finds its bucket. */
interface FeatureSlot {
  feature: BaselineFeature;
  offset: number;
  bucket: BucketFunction;
  labels: Record<FeatureValueLabel, string>[];
  /** Created (and exported at 0) when the baseline comes into force. */
  children: CounterChild[];
}

/** A feature service being recorded under one baseline. */
interface Monitored {
  baseline: DriftBaseline;
  /** Counts since the last scrape, per slot and bucket: the request path only adds to these. */
  pending: Float64Array;
  slots: FeatureSlot[];
  slotByName: Map<string, number>;
}

/** How one feature service's resolved features map onto its baseline, under one registry. */
interface Plan {
  refs: readonly ResolvedFeatureRef[];
  generation: number;
  monitored: Monitored | undefined;
  /** Per requested feature: its slot, or -1 (not in the baseline, or not recordable). */
  slotOf: Int32Array;
}

const DEFAULT_RETIRE_AFTER_MS = 10 * 60_000;

/**
 * Counts the values the serving tier returns for monitored feature services into
 * `strata_feature_value_bucket_total` (metric-names.ts), one series per baseline bucket, labels
 * bounded by the registry and the baselines (project, region, feature_service, feature,
 * baseline, bucket), never by request content.
 *
 * The request path does one sampling draw, one map lookup, and per value a bucket search and
 * a typed-array increment: no allocation, no prom-client call. The pending counts move into
 * the prom-client counters when the registry is collected (a scrape), so counts are exact.
 * Requests by feature list (no feature service) are not recorded: a baseline describes what a
 * model consumes, and a model consumes a feature service.
 */
export class FeatureValueRecorder {
  /** Holds the counter; render it with the process' other metrics (ServeMetrics merges it). */
  readonly registry = new Registry();
  private readonly counter: Counter<FeatureValueLabel>;
  private readonly monitorAll: boolean;
  private readonly monitorNames: ReadonlySet<string>;
  private readonly sampleRate: number;
  private readonly random: () => number;
  private readonly retireAfterMs: number;
  private readonly onNotice: (message: string, fields: Record<string, unknown>) => void;
  /** Bumped whenever the baselines in force change: plans of an older one are rebuilt. */
  private generation = 0;
  private readonly monitored = new Map<string, Monitored>();
  /** Keyed by feature service; only names the registry resolved get here. */
  private readonly plans = new Map<string, Plan>();
  private retired: { monitored: Monitored; sinceMs: number }[] = [];

  constructor(private readonly options: ValueRecorderOptions) {
    if (!(options.sampleRate >= 0 && options.sampleRate <= 1)) {
      throw new RangeError(`sampleRate must be from 0 to 1, not ${options.sampleRate}`);
    }
    this.monitorAll = options.monitor === "all";
    this.monitorNames = new Set(options.monitor === "all" ? [] : options.monitor);
    this.sampleRate = options.sampleRate;
    this.random = options.random ?? Math.random;
    this.retireAfterMs = options.retireAfterMs ?? DEFAULT_RETIRE_AFTER_MS;
    this.onNotice = options.onNotice ?? (() => {});
    this.counter = new Counter({
      name: FEATURE_VALUE_BUCKET_TOTAL,
      help: "Feature values served, sampled, per bucket of the feature's drift baseline (the last bucket is null)",
      labelNames: FEATURE_VALUE_LABELS,
      registers: [this.registry],
      collect: () => this.flush(),
    });
  }

  /** Whether a baseline is watched: its feature service or its model is named, or all are. */
  watches(baseline: DriftBaseline): boolean {
    return (
      this.monitorAll ||
      this.monitorNames.has(baseline.featureService) ||
      this.monitorNames.has(baseline.model)
    );
  }

  /**
   * The baselines in force (all of the project's, or only those watched). A feature service
   * whose baseline version is unchanged keeps counting as it was; a replaced or withdrawn
   * one stops, and its series are removed `retireAfterMs` later.
   */
  setBaselines(baselines: readonly DriftBaseline[], nowMs = Date.now()): void {
    const wanted = new Map<string, DriftBaseline>();
    for (const baseline of baselines) {
      if (baseline.project === this.options.project && this.watches(baseline)) {
        wanted.set(baseline.featureService, baseline);
      }
    }
    let changed = false;
    for (const [service, current] of this.monitored) {
      const next = wanted.get(service);
      if (next?.baselineVersion === current.baseline.baselineVersion) continue;
      this.flushOne(current);
      this.retired.push({ monitored: current, sinceMs: nowMs });
      this.monitored.delete(service);
      changed = true;
    }
    for (const [service, baseline] of wanted) {
      if (this.monitored.has(service)) continue;
      this.monitored.set(service, this.monitor(baseline));
      changed = true;
    }
    if (changed) this.generation++;
    this.removeRetired(nowMs);
  }

  /** The feature services recorded now. */
  monitoredServices(): string[] {
    return [...this.monitored.keys()].sort();
  }

  /**
   * Records the values of one answered request. `featureService`: what the request named
   * (undefined for a feature list: not recorded); `refs`: the features it resolved to, in
   * the order of each row's values. Call it only for services the registry resolved.
   */
  record(
    featureService: string | undefined,
    refs: readonly ResolvedFeatureRef[],
    rows: readonly ServedRow[],
  ): void {
    if (featureService === undefined || this.monitored.size === 0) return;
    if (this.sampleRate < 1 && !(this.random() < this.sampleRate)) return;
    let plan = this.plans.get(featureService);
    if (plan === undefined || plan.refs !== refs || plan.generation !== this.generation) {
      plan = this.plan(featureService, refs);
    }
    const monitored = plan.monitored;
    if (monitored === undefined) return;
    const { pending, slots } = monitored;
    const slotOf = plan.slotOf;
    for (let f = 0; f < slotOf.length; f++) {
      const s = slotOf[f]!;
      if (s < 0) continue;
      const slot = slots[s]!;
      const { offset, bucket } = slot;
      for (let r = 0; r < rows.length; r++) {
        const index = offset + bucket(rows[r]!.values[f]);
        pending[index] = pending[index]! + 1;
      }
    }
  }

  private monitor(baseline: DriftBaseline): Monitored {
    const slots: FeatureSlot[] = [];
    const slotByName = new Map<string, number>();
    let offset = 0;
    for (const feature of baseline.features) {
      const buckets = bucketCount(feature);
      const labels = Array.from({ length: buckets }, (_, b) => ({
        project: baseline.project,
        region: this.options.region,
        feature_service: baseline.featureService,
        feature: feature.name,
        baseline: baseline.baselineVersion,
        bucket: String(b),
      }));
      slotByName.set(feature.name, slots.length);
      // Every series is exported at 0 from the moment the baseline is in force, before any
      // request: Prometheus' increase() counts from a series' first sample, so counts that
      // arrived with the first scrape of a series would never show in any window.
      const children = labels.map((set) => {
        const child = this.counter.labels(set);
        child.inc(0);
        return child;
      });
      slots.push({ feature, offset, bucket: compileBucketFunction(feature), labels, children });
      offset += buckets;
    }
    return { baseline, pending: new Float64Array(offset), slots, slotByName };
  }

  /** Maps a service's resolved features onto its baseline's slots, once per registry and baseline. */
  private plan(featureService: string, refs: readonly ResolvedFeatureRef[]): Plan {
    const monitored = this.monitored.get(featureService);
    const slotOf = new Int32Array(refs.length).fill(-1);
    if (monitored) {
      const served = new Set<string>();
      refs.forEach((ref, f) => {
        const name = baselineName(ref);
        served.add(name);
        const s = monitored.slotByName.get(name);
        if (s === undefined) return;
        // Lists and bytes have no buckets a baseline could describe: every value would count
        // as null and look like drift.
        if (ref.feature.type.endsWith("[]") || ref.feature.type === "bytes") {
          for (const labels of monitored.slots[s]!.labels) this.counter.remove(labels);
          this.onNotice(
            "a drift baseline names a feature whose type cannot be bucketed; not recorded",
            {
              feature_service: featureService,
              feature: name,
              type: ref.feature.type,
            },
          );
          return;
        }
        slotOf[f] = s;
      });
      const missing = monitored.slots
        .map((slot) => slot.feature.name)
        .filter((name) => !served.has(name));
      if (missing.length > 0) {
        this.onNotice(
          "a drift baseline names features the feature service does not serve; not recorded",
          {
            feature_service: featureService,
            baseline: monitored.baseline.baselineVersion,
            features: missing,
          },
        );
      }
    }
    const plan: Plan = { refs, generation: this.generation, monitored, slotOf };
    this.plans.set(featureService, plan);
    return plan;
  }

  /** Moves the pending counts into the counters: called by prom-client when it is collected. */
  private flush(): void {
    for (const monitored of this.monitored.values()) this.flushOne(monitored);
  }

  private flushOne({ pending, slots }: Monitored): void {
    for (const slot of slots) {
      for (let b = 0; b < slot.children.length; b++) {
        const count = pending[slot.offset + b]!;
        if (count > 0) {
          slot.children[b]!.inc(count);
          pending[slot.offset + b] = 0;
        }
      }
    }
  }

  private removeRetired(nowMs: number): void {
    const keep: typeof this.retired = [];
    for (const entry of this.retired) {
      if (nowMs - entry.sinceMs < this.retireAfterMs) {
        keep.push(entry);
        continue;
      }
      const { featureService, baselineVersion } = entry.monitored.baseline;
      // Rolled back to that very baseline since: its series are live again.
      if (this.monitored.get(featureService)?.baseline.baselineVersion === baselineVersion)
        continue;
      for (const slot of entry.monitored.slots) {
        for (const labels of slot.labels) this.counter.remove(labels);
      }
    }
    this.retired = keep;
  }
}

/** A resolved feature as baselines name it: `view@major:feature`. */
export function baselineName(ref: ResolvedFeatureRef): string {
  return `${ref.view.name}@${ref.view.major}:${ref.feature.name}`;
}

import type { KafkaMessage } from "kafkajs";
import { isStrataError, StrataError } from "../errors.js";
import type { OnlineStore } from "../online-store/online-store.js";
import { highestPerRegion } from "../online-store/seen-clock.js";
import type { PreparedWrite } from "../online-store/write-path.js";
import type { FeatureRegistry } from "../registry/feature-registry.js";
import { checkEventTime, eventTimeLimit, type EventTimeLimit } from "../versions/event-time.js";
import { decodeChangelogRecord } from "./record.js";
import type { RegistryCatchUp } from "./registry-catch-up.js";

/** A record that cannot be applied, with why. */
export interface RejectedRecord {
  message: KafkaMessage;
  partition: number;
  /** The view named by the record key (`view@major`), when the key has one. */
  view: string | undefined;
  error: StrataError;
}

/** What applying one chunk did, per view major. */
export interface ApplyOutcome {
  byView: Map<string, { applied: number; stale: number; concurrent: number }>;
  rejected: RejectedRecord[];
  /**
   * Per view major, features that records carried and this registry's view does not have
   * (a record of a newer minor version): ignored, counted by name.
   */
  ignoredFeatures?: Map<string, Map<string, number>>;
  /** Latest event time among the applied records (ms), for event-time lag. */
  maxEventTsMs: number | undefined;
  /** Earliest event time among the applied records (ms): the chunk's largest event-time lag. */
  minEventTsMs?: number;
}

export interface ApplierOptions {
  store: OnlineStore;
  /** Where rejected records go before the offset moves past them (the dead-letter topic); awaited. */
  reject: (records: RejectedRecord[]) => Promise<void>;
  /** Whether to keep retrying (false once the consumer stops or loses the partition). */
  shouldContinue: () => boolean;
  /** Called while waiting between retries, e.g. to heartbeat the consumer group. */
  whileWaiting?: () => Promise<void>;
  onRetry?: (what: "apply" | "reject", error: unknown, attempt: number) => void;
  backoffMs?: { initial: number; max: number };
  /** Records whose event time is beyond their produce time plus this skew are rejected. */
  eventTime?: Partial<EventTimeLimit>;
  /**
   * Asked for a newer registry before a chunk's records of a view (or view major) the store's
   * registry does not have are dead-lettered, or features its view does not have are ignored;
   * given one, the chunk is judged again with it. Absent: judged by the registry served.
   */
  catchUp?: RegistryCatchUp;
  /**
   * The generations each view major's rows go into (view major -> generations), read before
   * every attempt to apply a chunk, so always after its records were fetched: the backfill
   * coordinator's proof that no live write is lost rests on that order (docs/backfill.md).
   * Views it does not list, or when absent, go to the active generation.
   */
  generations?: () => Promise<ReadonlyMap<string, readonly number[]>>;
}

/** A chunk's records judged against one registry. */
interface Decoded {
  writes: PreparedWrite[];
  /** The message of each write, by position. */
  sources: KafkaMessage[];
  rejected: RejectedRecord[];
  ignoredFeatures: Map<string, Map<string, number>>;
  maxEventTsMs: number | undefined;
  minEventTsMs: number | undefined;
  /** Newest produce time of the records a newer registry might judge otherwise; undefined if none. */
  unknownProducedMs: number | undefined;
}

/** Thrown when retrying stops because the caller no longer wants the chunk applied. */
export class ApplyAborted extends Error {
  constructor() {
    super("applying stopped before the chunk was applied");
  }
}

/**
 * Turns changelog records into CAS writes: decode and validate each record on its own (a
 * bad one is rejected with its reason, the rest go on), then apply the valid ones in one
 * batch. A row whose stored state in Redis is corrupt is rejected after the batch
 * (STRATA_E_STORED_STATE_CORRUPT) rather than retried: retrying cannot repair it. Redis being
 * unavailable never skips anything: the chunk is retried with backoff until it is applied or
 * the caller stops, and only then may offsets move past it.
 */
export class ChangelogApplier {
  private readonly backoff: { initial: number; max: number };
  private readonly eventTime: EventTimeLimit;

  constructor(private readonly options: ApplierOptions) {
    this.backoff = options.backoffMs ?? { initial: 50, max: 5_000 };
    this.eventTime = eventTimeLimit(options.eventTime);
  }

  async apply(messages: readonly KafkaMessage[], partition: number): Promise<ApplyOutcome> {
    // One registry for the whole chunk: the one served when it starts, or a newer one asked for.
    const served = this.options.store.live.snapshot();
    let decoded = this.decode(served.registry, messages, partition);
    const catchUp = this.options.catchUp;
    if (catchUp && decoded.unknownProducedMs !== undefined) {
      const newer = await this.whileWaiting(
        catchUp.newer(served.version, decoded.unknownProducedMs),
      );
      if (newer) decoded = this.decode(newer.registry, messages, partition);
    }
    const { writes, sources, rejected, ignoredFeatures, maxEventTsMs, minEventTsMs } = decoded;
    if (rejected.length > 0) await this.retry("reject", () => this.options.reject(rejected));
    const byView: ApplyOutcome["byView"] = new Map();
    if (writes.length === 0)
      return { byView, rejected, ignoredFeatures, maxEventTsMs, minEventTsMs };
    const store = this.options.store;
    const generationsOf = this.options.generations;
    const report = await this.retry("apply", async () =>
      store.writePrepared(writes, generationsOf ? { generations: await generationsOf() } : {}),
    );
    // What this region now knows of each origin region, for the clock vectors its writers
    // carry: every row it applied or found stale (a corrupt one it has not looked at). Retried
    // on its own: the rows are applied already, and applying them again would count them stale.
    const seen = writes.filter((_, i) => report.rows[i]!.outcome !== "corrupt");
    const highest = highestPerRegion(seen.map((write) => write.version));
    await this.retry("apply", () => store.seen.raise(highest));
    const corrupt: RejectedRecord[] = [];
    report.rows.forEach((row, i) => {
      const write = writes[i]!;
      if (row.outcome === "corrupt") {
        corrupt.push({
          message: sources[i]!,
          partition,
          view: write.view.key,
          error: storedStateCorrupt(write, row.generation),
        });
        return;
      }
      let counts = byView.get(write.view.key);
      if (!counts) byView.set(write.view.key, (counts = { applied: 0, stale: 0, concurrent: 0 }));
      if (row.outcome === "applied") counts.applied++;
      else counts.stale++;
      if (row.concurrent) counts.concurrent++;
    });
    if (corrupt.length > 0) {
      await this.retry("reject", () => this.options.reject(corrupt));
      rejected.push(...corrupt);
    }
    return { byView, rejected, ignoredFeatures, maxEventTsMs, minEventTsMs };
  }

  private decode(
    registry: FeatureRegistry,
    messages: readonly KafkaMessage[],
    partition: number,
  ): Decoded {
    const writes: PreparedWrite[] = [];
    const sources: KafkaMessage[] = [];
    const rejected: RejectedRecord[] = [];
    const ignoredFeatures = new Map<string, Map<string, number>>();
    let maxEventTsMs: number | undefined;
    let minEventTsMs: number | undefined;
    let unknownProducedMs: number | undefined;
    const nowMs = this.eventTime.now();
    const skewMs = this.eventTime.maxSkewMs;
    for (const message of messages) {
      const key = message.key?.toString("utf8");
      // Measured from the record's produce time (CreateTime) when that is earlier than now,
      // so that a replay, however late, rejects exactly what live consumption rejected: a
      // record an hour ahead of its producer must not become acceptable an hour later.
      const producedMs = Number(message.timestamp);
      const fromMs = producedMs > 0 && producedMs < nowMs ? producedMs : nowMs;
      try {
        const write = decodeChangelogRecord(
          registry,
          key,
          message.value?.toString("utf8"),
          writes.length,
        );
        checkEventTime(write.version.eventTsMs, fromMs + skewMs, skewMs);
        writes.push(write);
        sources.push(message);
        if (write.ignoredFeatures) {
          countIgnored(ignoredFeatures, write);
          unknownProducedMs = Math.max(unknownProducedMs ?? 0, fromMs);
        }
        const eventTsMs = write.version.eventTsMs;
        if (maxEventTsMs === undefined || eventTsMs > maxEventTsMs) maxEventTsMs = eventTsMs;
        if (minEventTsMs === undefined || eventTsMs < minEventTsMs) minEventTsMs = eventTsMs;
      } catch (error) {
        if (!isStrataError(error)) throw error;
        rejected.push({ message, partition, view: key?.split("/")[0], error });
        if (error.code === "STRATA_E_UNKNOWN_VIEW") {
          unknownProducedMs = Math.max(unknownProducedMs ?? 0, fromMs);
        }
      }
    }
    return {
      writes,
      sources,
      rejected,
      ignoredFeatures,
      maxEventTsMs,
      minEventTsMs,
      unknownProducedMs,
    };
  }

  /** Awaits `work`, heartbeating meanwhile; stops waiting when the caller stops. */
  private async whileWaiting<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const settled = work.finally(() => (done = true));
    for (;;) {
      const tick = new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref());
      await Promise.race([settled, tick]);
      if (done) return settled;
      await this.options.whileWaiting?.().catch(() => undefined);
      if (!this.options.shouldContinue()) throw new ApplyAborted();
    }
  }

  private async retry<T>(what: "apply" | "reject", run: () => Promise<T>): Promise<T> {
    let wait = this.backoff.initial;
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        this.options.onRetry?.(what, error, attempt);
        if (!this.options.shouldContinue()) throw new ApplyAborted();
        const until = Date.now() + wait;
        while (Date.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, until - Date.now())));
          await this.options.whileWaiting?.().catch(() => undefined);
          if (!this.options.shouldContinue()) throw new ApplyAborted();
        }
        wait = Math.min(wait * 2, this.backoff.max);
      }
    }
  }
}

function countIgnored(counts: Map<string, Map<string, number>>, write: PreparedWrite): void {
  let byFeature = counts.get(write.view.key);
  if (!byFeature) counts.set(write.view.key, (byFeature = new Map<string, number>()));
  for (const name of write.ignoredFeatures!) byFeature.set(name, (byFeature.get(name) ?? 0) + 1);
}

function storedStateCorrupt(write: PreparedWrite, generation: number): StrataError {
  return new StrataError(
    "STRATA_E_STORED_STATE_CORRUPT",
    `the stored version or clock vector of ${write.view.key} generation ${generation} in ${write.redisKey} is corrupt; the row was not written`,
    { key: write.redisKey, view: write.view.key, generation },
  );
}

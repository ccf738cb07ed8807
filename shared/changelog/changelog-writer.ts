import type { Kafka, Producer } from "kafkajs";
import { isStrataError, show, StrataError } from "../errors.js";
import type { OnlineStore, WriteReport } from "../online-store/online-store.js";
import {
  readyForCas,
  validateWrites,
  type ValidatedWrite,
  type WriteRow,
} from "../online-store/write-path.js";
import type { FeatureRegistry } from "../registry/feature-registry.js";
import { LiveRegistry } from "../registry/live-registry.js";
import {
  checkPeers,
  planReplication,
  waitForReplication,
  type PeerRegion,
  type ReplicationOptions,
  type ReplicationPlan,
  type ReplicationReport,
} from "../regions/index.js";
import { eventTimeLimit, latestEventTimeMs, type EventTimeLimit } from "../versions/event-time.js";
import { permanentKafkaError } from "./kafka-errors.js";
import { SeenVector } from "../versions/clock-vector.js";
import { encodeChangelogRecord, type EncodedRecord } from "./record.js";
import { createKeyPartitioner } from "./partitioner.js";
import { SendNotStarted, SerialSender } from "./serial-sender.js";
import { changelogTopic } from "./topics.js";
import { WriteQueue } from "./write-queue.js";

/**
 * How long a write call waits:
 * - enqueued: until the rows are in the writer's queue (the default for `standard` views);
 * - acked: until Kafka acknowledged them with acks=all (always, for `critical` views);
 * - applied: acked, and applied to this region's Redis (read-your-writes);
 * - replicated: applied, and applied in every peer region (or a quorum of them, see
 *   ReplicationOptions): each peer's Redis holds the row's version or a newer one.
 */
export type WaitFor = "enqueued" | "acked" | "applied" | "replicated";

/** The write call's options. */
export interface WriteOptions {
  wait?: WaitFor;
  /**
   * The registry the rows were built against (a request's snapshot): they are validated
   * against it, not against a newer one swapped in since. Default: the one served now.
   */
  registry?: FeatureRegistry;
  /** With `wait: "replicated"` only: which peers, how many of them, and the deadline. */
  replication?: ReplicationOptions;
}

export interface ChangelogWriterOptions {
  kafka: Kafka;
  /** The registry, or the live one the process follows (its project, and so the topic, never changes). */
  registry: FeatureRegistry | LiveRegistry;
  /**
   * This region's store, for `wait: "applied"` (without one, that wait is refused), and for
   * the region's seen clock: a row without its own `clock` carries it, so the CAS counts as
   * concurrent only writes that did not know of what this region had applied.
   */
  store?: OnlineStore;
  /** How old the seen clock may get before a write refreshes it (in the background); 250 ms. */
  seenMaxAgeMs?: number;
  /** The bounded queue of `standard` writes. */
  queue?: { maxRecords?: number; batchSize?: number; lingerMs?: number };
  /**
   * The deadline of every wait, in this process (default 10,000 ms): a call waiting for Kafka's
   * acknowledgement (critical rows, or `wait` acked, applied or replicated) that has none by then fails
   * with STRATA_E_CHANGELOG_UNAVAILABLE (`details.mayStillBeWritten`: its records may still be
   * in the queue or the producer and be written later). Also the broker's own ack timeout.
   */
  ackTimeoutMs?: number;
  /** Rows with an event time beyond now plus this skew are refused (STRATA_E_EVENT_TIME_IN_FUTURE). */
  eventTime?: Partial<EventTimeLimit>;
  /**
   * The other regions' Redis, for `wait: "replicated"`: read only, never written. Without any,
   * that wait is refused with STRATA_E_NO_PEERS.
   */
  peers?: readonly PeerRegion[];
  /** This writer's own region, which no peer may be named after; optional. */
  region?: string;
  /**
   * How long `wait: "replicated"` waits for the peers once the rows are applied here (default
   * 5,000 ms), and the most a call may ask for with `replication.timeoutMs` (default 60,000
   * ms, at least the former). Past it the call fails with STRATA_E_NOT_REPLICATED.
   */
  replicationTimeoutMs?: number;
  maxReplicationTimeoutMs?: number;
  onError?: (message: string, error: unknown) => void;
}

export interface ChangelogWriteResult {
  rows: number;
  /** What every row of the call reached before it returned. */
  reached: WaitFor;
  critical: number;
  standard: number;
  /** With wait "applied": what the CAS made of each row (a stale row lost to a newer version). */
  applied?: Pick<WriteReport, "applied" | "stale" | "concurrent">;
  /** With wait "replicated": what each peer region waited for held when the call returned. */
  replication?: ReplicationReport;
}

/** The default deadline of `wait: "replicated"`, and the default ceiling a call may raise it to. */
export const DEFAULT_REPLICATION_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_REPLICATION_TIMEOUT_MS = 60_000;

export interface ChangelogWriterStats {
  queued: number;
  sendErrors: number;
  recordsAcked: number;
  /** Records Kafka refused for good (too large, not authorized): not written. */
  recordsRefused: number;
}

const RANK: Record<WaitFor, number> = { enqueued: 0, acked: 1, applied: 2, replicated: 3 };

/**
 * The write side of the changelog. Rows are validated against the registry before anything
 * is produced (one bad row rejects the call, naming every bad row). `critical` rows are sent
 * at once and the call returns after Kafka's acks=all acknowledgement; `standard` rows go
 * through a bounded, batching queue. With `wait: "applied"`, rows are also applied to this
 * region's Redis right after Kafka acknowledged them: the CAS makes the consumer's later
 * copy of the same version a no-op, so applying twice is safe and the caller reads its write.
 */
export class ChangelogWriter {
  private readonly topic: string;
  private readonly sender: SerialSender<EncodedRecord>;
  private readonly queue: WriteQueue;
  private readonly counters = { sendErrors: 0, recordsAcked: 0, recordsRefused: 0 };
  private readonly eventTime: EventTimeLimit;
  private seen: SeenVector | undefined;
  private seenReadAt = -Infinity;
  private seenRefresh: Promise<void> | undefined;
  private readonly live: LiveRegistry;

  private constructor(
    private readonly options: ChangelogWriterOptions,
    private readonly producer: Producer,
    private readonly ackTimeoutMs: number,
  ) {
    this.live =
      options.registry instanceof LiveRegistry
        ? options.registry
        : LiveRegistry.fixed(options.registry);
    this.topic = changelogTopic(this.live.project);
    this.eventTime = eventTimeLimit(options.eventTime);
    this.sender = new SerialSender(
      async (records) => {
        await this.producer.send({
          topic: this.topic,
          acks: -1,
          timeout: ackTimeoutMs,
          messages: records,
        });
        this.counters.recordsAcked += records.length;
      },
      2_000,
      (error) => permanentKafkaError(error) !== undefined,
    );
    this.queue = new WriteQueue({
      maxRecords: options.queue?.maxRecords ?? 100_000,
      batchSize: options.queue?.batchSize ?? 1_000,
      lingerMs: options.queue?.lingerMs ?? 5,
      send: (records) => this.sender.send(records),
      onSendError: (error, attempt) => {
        this.counters.sendErrors++;
        options.onError?.(`changelog send failed (attempt ${attempt}); retrying`, error);
      },
      permanentError: permanentKafkaError,
      onRefused: (error, records) => {
        this.counters.recordsRefused += records;
        options.onError?.(`Kafka refused ${records} queued record(s) for good; dropped`, error);
      },
    });
  }

  /** Connects an idempotent producer (acks=all). */
  static async open(options: ChangelogWriterOptions): Promise<ChangelogWriter> {
    const ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    checkPeers(options.peers ?? [], options.region);
    const producer = options.kafka.producer({
      idempotent: true,
      createPartitioner: createKeyPartitioner,
      // Bounded, so that a write fails (and says so) instead of hanging while Kafka is down.
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: Math.max(1_000, ackTimeoutMs / 4) },
    });
    await producer.connect();
    return new ChangelogWriter(options, producer, ackTimeoutMs);
  }

  /** The registry served now. */
  get registry(): FeatureRegistry {
    return this.live.registry;
  }

  /** The latest event time a write may carry now, and the skew it allows (for `/push`). */
  eventTimeBound(): { latestMs: number; maxSkewMs: number } {
    return { latestMs: latestEventTimeMs(this.eventTime), maxSkewMs: this.eventTime.maxSkewMs };
  }

  /**
   * Validates rows, then produces them; see WaitFor for when the promise settles. With
   * `wait: "replicated"`, a call whose peers did not apply it in time fails with
   * STRATA_E_NOT_REPLICATED; its rows are in the changelog and applied here all the same.
   */
  async write(
    rows: readonly WriteRow[],
    options: WriteOptions = {},
  ): Promise<ChangelogWriteResult> {
    const wait = options.wait ?? "enqueued";
    if (!Object.hasOwn(RANK, wait)) {
      throw new StrataError(
        "STRATA_E_BAD_REQUEST",
        `wait is enqueued, acked, applied or replicated, not ${show(wait)}`,
        { wait },
      );
    }
    if (RANK[wait] >= RANK.applied && !this.options.store) {
      throw new StrataError(
        "STRATA_E_BAD_CONFIG",
        `wait "${wait}" needs the writer to have this region's store`,
        {},
      );
    }
    const plan = this.replicationPlan(wait, options.replication);
    // One registry for the whole call, even if a newer one is swapped in while it waits.
    const registry = options.registry ?? this.live.registry;
    this.refuseIfQueueFull(rows, registry);
    const validated = validateWrites(registry, rows, this.eventTimeBound());
    this.carrySeenClock(rows, validated);
    const critical: ValidatedWrite[] = [];
    const standard: ValidatedWrite[] = [];
    for (const v of validated) (v.view.criticality === "critical" ? critical : standard).push(v);

    const deadline = new Deadline(this.ackTimeoutMs);
    try {
      // The queue refuses synchronously when full, before anything critical is sent.
      const standardDone = this.queue.enqueue(standard.map(encodeChangelogRecord), RANK[wait] >= 1);
      const criticalDone = this.sendCritical(critical.map(encodeChangelogRecord), deadline.signal);
      await deadline.race(Promise.all([criticalDone, standardDone]));
    } catch (error) {
      deadline.clear();
      throw this.sendFailure(error, validated.length, deadline);
    }
    const result: ChangelogWriteResult = {
      rows: validated.length,
      reached: standard.length > 0 && wait === "enqueued" ? "enqueued" : "acked",
      critical: critical.length,
      standard: standard.length,
    };
    if (RANK[wait] < RANK.applied) {
      deadline.clear();
      return result;
    }
    const prepared = validated.map((write) => readyForCas(registry, write));
    let applied: ChangelogWriteResult;
    try {
      const report = await deadline.race(this.options.store!.writePrepared(prepared));
      applied = {
        ...result,
        reached: "applied",
        applied: { applied: report.applied, stale: report.stale, concurrent: report.concurrent },
      };
    } catch (error) {
      throw new StrataError(
        "STRATA_E_NOT_YET_APPLIED",
        "the rows are in the changelog (Kafka acknowledged them), but this region's Redis did not apply them now; the consumer will",
        { acknowledged: true, rows: validated.length },
        { cause: error },
      );
    } finally {
      deadline.clear();
    }
    if (!plan) return applied;
    const replication = await waitForReplication(registry.project, prepared, plan);
    if (!replication.reached) throw notReplicated(replication, plan, validated.length);
    return { ...applied, reached: "replicated", replication };
  }

  /** The checked replication options of a call, before anything is written; none unless replicated. */
  private replicationPlan(
    wait: WaitFor,
    replication: ReplicationOptions | undefined,
  ): ReplicationPlan | undefined {
    if (wait !== "replicated") {
      if (replication !== undefined) {
        throw new StrataError(
          "STRATA_E_BAD_REQUEST",
          `replication options apply to wait "replicated" only, not to ${show(wait)}`,
          { wait },
        );
      }
      return undefined;
    }
    const timeoutMs = this.options.replicationTimeoutMs ?? DEFAULT_REPLICATION_TIMEOUT_MS;
    return planReplication(this.options.peers ?? [], replication, {
      timeoutMs,
      maxTimeoutMs: Math.max(
        timeoutMs,
        this.options.maxReplicationTimeoutMs ?? DEFAULT_MAX_REPLICATION_TIMEOUT_MS,
      ),
    });
  }

  /**
   * Sends critical records and waits for Kafka's acknowledgement, retrying retriable failures
   * (kafkajs gives up after a few retries of its own) until the call's deadline aborts it.
   */
  private async sendCritical(records: EncodedRecord[], signal: AbortSignal): Promise<void> {
    let backoffMs = 100;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.sender.send(records, signal);
      } catch (error) {
        if (signal.aborted || error instanceof SendNotStarted) throw error;
        const refused = permanentKafkaError(error);
        if (refused) {
          this.counters.recordsRefused += records.length;
          throw refused;
        }
        this.counters.sendErrors++;
        this.options.onError?.(`changelog send failed (attempt ${attempt}); retrying`, error);
        await sleep(backoffMs, signal);
        backoffMs = Math.min(backoffMs * 2, 2_000);
      }
    }
  }

  /** What a failed or late wait for Kafka tells the caller. */
  private sendFailure(error: unknown, rows: number, deadline: Deadline): StrataError {
    if (deadline.expired) {
      return new StrataError(
        "STRATA_E_CHANGELOG_UNAVAILABLE",
        `Kafka did not acknowledge the write within ${this.ackTimeoutMs} ms; it may still be written (its records may wait in this process' queue or producer), and retrying the same rows is safe (the same version is applied once)`,
        { rows, timeoutMs: this.ackTimeoutMs, mayStillBeWritten: true },
        { cause: error },
      );
    }
    if (isStrataError(error)) return error;
    return new StrataError(
      "STRATA_E_CHANGELOG_UNAVAILABLE",
      "Kafka did not acknowledge the write; it may or may not be in the changelog, and retrying the same rows is safe (same versions are applied once)",
      { rows, mayStillBeWritten: true },
      { cause: error },
    );
  }

  /**
   * Reads the region's seen clock now; writes carry it from then on. Writes refresh it on
   * their own, without waiting, once it is older than `seenMaxAgeMs`.
   */
  refreshSeenClock(): Promise<void> {
    const store = this.options.store;
    if (!store) return Promise.resolve();
    this.seenRefresh ??= store.seen
      .read()
      .then((clock) => {
        this.seen = new SeenVector(clock);
        this.seenReadAt = performance.now();
      })
      // Redis being away must not stop writes: they carry the last clock read, or their own entry.
      .catch((error: unknown) => this.options.onError?.("reading the seen clock failed", error))
      .finally(() => (this.seenRefresh = undefined));
    return this.seenRefresh;
  }

  /** Rows without a clock of their own carry the region's seen clock with their own HLC. */
  private carrySeenClock(rows: readonly WriteRow[], validated: ValidatedWrite[]): void {
    if (!this.options.store) return;
    if (performance.now() - this.seenReadAt > (this.options.seenMaxAgeMs ?? 250)) {
      void this.refreshSeenClock();
    }
    const seen = this.seen;
    if (!seen) return;
    for (const write of validated) {
      if (rows[write.index]!.clock !== undefined) continue;
      write.encodedClock = seen.encodeWith(write.version.originRegion, write.version.hlc);
    }
  }

  /**
   * Refuses a call whose standard rows do not fit in the queue before validating or encoding
   * anything. Producers retry under back-pressure, and each retry used to validate and encode
   * its rows only for the queue to refuse them: that work, and the garbage it left, took the
   * CPU the sends needed, just when the writer was behind. Under back-pressure a batch that is
   * also invalid gets 429 first, and its 400 on the retry. Critical rows do not use the queue
   * and are never refused for it; a row whose view is unknown counts as standard (it fails
   * validation anyway).
   */
  private refuseIfQueueFull(rows: readonly WriteRow[], registry: FeatureRegistry): void {
    if (this.queue.hasRoomFor(rows.length)) return;
    let standard = 0;
    for (const row of rows) if (!isCriticalRow(row, registry)) standard++;
    this.queue.assertRoomFor(standard);
  }

  /** Sends whatever the queue holds and waits for Kafka's acknowledgement. */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  stats(): ChangelogWriterStats {
    return { queued: this.queue.depth, ...this.counters };
  }

  /**
   * Sends what is queued (for at most `deadlineMs`), then disconnects. Returns how many
   * queued records could not be sent in time (they were not acknowledged to anyone waiting).
   */
  async close(deadlineMs = 10_000): Promise<number> {
    const unsent = await this.queue.close(deadlineMs);
    await this.producer.disconnect();
    return unsent;
  }
}

/**
 * STRATA_E_NOT_REPLICATED: which peers had every row and which not. The rows are in this
 * region's changelog and applied here, so replication still carries them to the others.
 */
function notReplicated(
  report: ReplicationReport,
  plan: ReplicationPlan,
  rows: number,
): StrataError {
  const names = Object.keys(report.regions);
  const replicated = names.filter((name) => report.regions[name]!.applied);
  const missing = names.filter((name) => !report.regions[name]!.applied);
  return new StrataError(
    "STRATA_E_NOT_REPLICATED",
    `the write was applied in ${replicated.length} peer region(s) within ${plan.timeoutMs} ms, and needed ${plan.quorum} (applied: ${replicated.join(", ") || "none"}; not yet: ${missing.join(", ")}). It is acknowledged in this region's changelog and applied here, so it may still arrive in ${missing.join(", ")} once replication catches up; retrying the same rows is safe (the same version is applied once)`,
    {
      rows,
      acknowledged: true,
      appliedLocally: true,
      mayStillArrive: true,
      quorum: plan.quorum,
      timeoutMs: plan.timeoutMs,
      replicated,
      missing,
      regions: report.regions,
    },
  );
}

function isCriticalRow(row: WriteRow, registry: FeatureRegistry): boolean {
  if (typeof row !== "object" || row === null || typeof row.view !== "string") return false;
  try {
    return registry.viewByRef(row.view).criticality === "critical";
  } catch {
    return false;
  }
}

/** One call's deadline: an abort signal for what it started, and a race for what it awaits. */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly expiry: Promise<never>;

  constructor(ms: number) {
    this.expiry = new Promise<never>((_resolve, reject) => {
      this.controller.signal.addEventListener("abort", () => reject(new Error("deadline")));
    });
    this.expiry.catch(() => undefined); // raced, or never awaited
    this.timer = setTimeout(() => this.controller.abort(), ms);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.controller.signal.aborted;
  }

  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.expiry]);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

import type { Kafka, Producer } from "kafkajs";
import { isStrataError, StrataError } from "../errors.js";
import type { OnlineStore, WriteReport } from "../online-store/online-store.js";
import {
  readyForCas,
  validateWrites,
  type ValidatedWrite,
  type WriteRow,
} from "../online-store/write-path.js";
import type { FeatureRegistry } from "../registry/feature-registry.js";
import { encodeChangelogRecord, type EncodedRecord } from "./record.js";
import { createKeyPartitioner } from "./partitioner.js";
import { SerialSender } from "./serial-sender.js";
import { changelogTopic } from "./topics.js";
import { WriteQueue } from "./write-queue.js";

/**
 * How long a write call waits:
 * - enqueued: until the rows are in the writer's queue (the default for `standard` views);
 * - acked: until Kafka acknowledged them with acks=all (always, for `critical` views);
 * - applied: acked, and applied to this region's Redis (read-your-writes).
 */
export type WaitFor = "enqueued" | "acked" | "applied";

export interface ChangelogWriterOptions {
  kafka: Kafka;
  registry: FeatureRegistry;
  /** This region's store, for `wait: "applied"`; without one, that wait is refused. */
  store?: OnlineStore;
  /** The bounded queue of `standard` writes. */
  queue?: { maxRecords?: number; batchSize?: number; lingerMs?: number };
  /** A write Kafka has not acknowledged within this fails with STRATA_E_CHANGELOG_UNAVAILABLE. */
  ackTimeoutMs?: number;
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
}

export interface ChangelogWriterStats {
  queued: number;
  sendErrors: number;
  recordsAcked: number;
}

const RANK: Record<WaitFor, number> = { enqueued: 0, acked: 1, applied: 2 };

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
  private readonly counters = { sendErrors: 0, recordsAcked: 0 };

  private constructor(
    private readonly options: ChangelogWriterOptions,
    private readonly producer: Producer,
    ackTimeoutMs: number,
  ) {
    this.topic = changelogTopic(options.registry.project);
    this.sender = new SerialSender(async (records) => {
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        timeout: ackTimeoutMs,
        messages: records,
      });
      this.counters.recordsAcked += records.length;
    }, 2_000);
    this.queue = new WriteQueue({
      maxRecords: options.queue?.maxRecords ?? 100_000,
      batchSize: options.queue?.batchSize ?? 1_000,
      lingerMs: options.queue?.lingerMs ?? 5,
      send: (records) => this.sender.send(records),
      onSendError: (error, attempt) => {
        this.counters.sendErrors++;
        options.onError?.(`changelog send failed (attempt ${attempt}); retrying`, error);
      },
    });
  }

  /** Connects an idempotent producer (acks=all). */
  static async open(options: ChangelogWriterOptions): Promise<ChangelogWriter> {
    const ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    const producer = options.kafka.producer({
      idempotent: true,
      createPartitioner: createKeyPartitioner,
      // Bounded, so that a write fails (and says so) instead of hanging while Kafka is down.
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: Math.max(1_000, ackTimeoutMs / 4) },
    });
    await producer.connect();
    return new ChangelogWriter(options, producer, ackTimeoutMs);
  }

  get registry(): FeatureRegistry {
    return this.options.registry;
  }

  /** Validates rows, then produces them; see WaitFor for when the promise settles. */
  async write(
    rows: readonly WriteRow[],
    options: { wait?: WaitFor } = {},
  ): Promise<ChangelogWriteResult> {
    const wait = options.wait ?? "enqueued";
    if (!(wait in RANK)) {
      throw new StrataError(
        "STRATA_E_BAD_REQUEST",
        `wait is enqueued, acked or applied, not ${String(wait)}`,
        {
          wait,
        },
      );
    }
    if (wait === "applied" && !this.options.store) {
      throw new StrataError(
        "STRATA_E_BAD_CONFIG",
        'wait "applied" needs the writer to have this region\'s store',
        {},
      );
    }
    this.refuseIfQueueFull(rows);
    const validated = validateWrites(this.options.registry, rows);
    const critical: ValidatedWrite[] = [];
    const standard: ValidatedWrite[] = [];
    for (const v of validated) (v.view.criticality === "critical" ? critical : standard).push(v);

    // The queue refuses synchronously when full, before anything critical is sent.
    const standardDone = this.queue.enqueue(standard.map(encodeChangelogRecord), RANK[wait] >= 1);
    const criticalDone = this.sender.send(critical.map(encodeChangelogRecord));
    try {
      await Promise.all([criticalDone, standardDone]);
    } catch (error) {
      throw isStrataError(error)
        ? error
        : new StrataError(
            "STRATA_E_CHANGELOG_UNAVAILABLE",
            "Kafka did not acknowledge the write; it may or may not be in the changelog, and retrying the same rows is safe (same versions are applied once)",
            { rows: validated.length },
            { cause: error },
          );
    }
    const result: ChangelogWriteResult = {
      rows: validated.length,
      reached: standard.length > 0 && wait === "enqueued" ? "enqueued" : "acked",
      critical: critical.length,
      standard: standard.length,
    };
    if (wait !== "applied") return result;
    try {
      const registry = this.options.registry;
      const report = await this.options.store!.writePrepared(
        validated.map((write) => readyForCas(registry, write)),
      );
      return {
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
  private refuseIfQueueFull(rows: readonly WriteRow[]): void {
    if (this.queue.hasRoomFor(rows.length)) return;
    let standard = 0;
    for (const row of rows) if (!this.isCriticalRow(row)) standard++;
    this.queue.assertRoomFor(standard);
  }

  private isCriticalRow(row: WriteRow): boolean {
    if (typeof row !== "object" || row === null || typeof row.view !== "string") return false;
    try {
      return this.options.registry.viewByRef(row.view).criticality === "critical";
    } catch {
      return false;
    }
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

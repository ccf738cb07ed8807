import {
  Partitioners,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type Producer,
} from "kafkajs";
import type { OnlineStore } from "../online-store/online-store.js";
import { ApplyAborted, ChangelogApplier, type ApplyOutcome } from "./applier.js";
import { sendToDeadLetter } from "./dead-letter.js";
import { changelogTopic, deadLetterTopic } from "./topics.js";

export interface PartitionLag {
  /** Records in the partition after the last applied one. */
  records: number;
  /** Applied time minus the produce time (Kafka's CreateTime) of the last applied record. */
  produceToAppliedMs: number;
  /** Applied time minus the newest event time in the last applied chunk. */
  eventToAppliedMs: number | undefined;
}

export interface ConsumerObserver {
  applied?(outcome: ApplyOutcome): void;
  lag?(partition: number, lag: PartitionLag): void;
  retry?(what: "apply" | "reject", error: unknown, attempt: number): void;
}

export interface ChangelogConsumerOptions {
  kafka: Kafka;
  store: OnlineStore;
  /** The region this consumer applies to: one consumer group per region. */
  region: string;
  /** Records applied per CAS batch; offsets are committed after each. */
  chunkSize?: number;
  /** Partitions applied in parallel (Redis round trips overlap). */
  partitionsConsumedConcurrently?: number;
  observer?: ConsumerObserver;
  /**
   * How long the group waits for a silent member before giving its partitions to another: a
   * crashed consumer's partitions stall this long (kafkajs' default is 30 s).
   */
  sessionTimeoutMs?: number;
}

export function consumerGroupId(project: string, region: string): string {
  return `strata.${project}.${region}.apply`;
}

/**
 * A region's changelog consumer: at-least-once delivery, made exactly-once in effect by the
 * CAS. Per chunk of a fetched batch: decode and validate, send bad records to the dead-letter
 * topic, apply the rest in one pipelined CAS batch, and only then resolve and commit the
 * offsets. A crash before the commit redelivers the chunk, which the CAS turns into no-ops.
 */
export class ChangelogConsumer {
  private constructor(
    private readonly consumer: Consumer,
    private readonly deadLetters: Producer,
  ) {}

  static async start(options: ChangelogConsumerOptions): Promise<ChangelogConsumer> {
    const project = options.store.registry.project;
    const topic = changelogTopic(project);
    const dlq = deadLetterTopic(project);
    const chunkSize = options.chunkSize ?? 2_000;
    const consumer = options.kafka.consumer({
      groupId: consumerGroupId(project, options.region),
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: Math.floor((options.sessionTimeoutMs ?? 10_000) / 3),
      maxBytesPerPartition: 4 * 1024 * 1024,
    });
    const deadLetters = options.kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await Promise.all([consumer.connect(), deadLetters.connect()]);
    await consumer.subscribe({ topic, fromBeginning: true });
    const observer = options.observer ?? {};

    const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
      const { batch } = payload;
      const isRunning = () => payload.isRunning();
      const isStale = () => payload.isStale();
      const applier = new ChangelogApplier({
        store: options.store,
        reject: (records) => sendToDeadLetter(deadLetters, dlq, topic, records),
        shouldContinue: () => isRunning() && !isStale(),
        whileWaiting: () => payload.heartbeat(),
        onRetry: (what, error, attempt) => observer.retry?.(what, error, attempt),
      });
      for (let start = 0; start < batch.messages.length; start += chunkSize) {
        if (!isRunning() || isStale()) return;
        const chunk = batch.messages.slice(start, start + chunkSize);
        let outcome: ApplyOutcome;
        try {
          outcome = await applier.apply(chunk, batch.partition);
        } catch (error) {
          if (error instanceof ApplyAborted) return;
          throw error;
        }
        const last = chunk[chunk.length - 1]!;
        payload.resolveOffset(last.offset);
        await payload.commitOffsetsIfNecessary();
        const now = Date.now();
        observer.applied?.(outcome);
        observer.lag?.(batch.partition, {
          records: Math.max(0, Number(batch.highWatermark) - Number(last.offset) - 1),
          produceToAppliedMs: now - Number(last.timestamp),
          eventToAppliedMs:
            outcome.maxEventTsMs === undefined ? undefined : now - outcome.maxEventTsMs,
        });
        await payload.heartbeat();
      }
    };

    await consumer.run({
      // Offsets move only when a chunk is applied (resolveOffset), and every resolved offset
      // is committed at once (threshold 1), so a restart repeats at most one chunk.
      eachBatchAutoResolve: false,
      autoCommit: true,
      autoCommitThreshold: 1,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 3,
      eachBatch,
    });
    return new ChangelogConsumer(consumer, deadLetters);
  }

  /** Leaves the group after the chunk in progress is applied and committed. */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.deadLetters.disconnect();
  }
}

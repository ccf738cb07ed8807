import type { Consumer, EachBatchPayload, Kafka, Producer } from "kafkajs";
import type { OnlineStore } from "../online-store/online-store.js";
import type { EventTimeLimit } from "../versions/event-time.js";
import { ChangelogApplier } from "./applier.js";
import { applyBatchInChunks } from "./batch-in-chunks.js";
import type { ConsumerObserver } from "./consumer-observer.js";
import { sendToDeadLetter } from "./dead-letter.js";
import { createKeyPartitioner } from "./partitioner.js";
import { changelogTopic, deadLetterTopic } from "./topics.js";

export type { ConsumerObserver, PartitionLag } from "./consumer-observer.js";

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
  /** Records with an event time beyond now plus this skew are dead-lettered (STRATA_E_EVENT_TIME_IN_FUTURE). */
  eventTime?: Partial<EventTimeLimit>;
}

/** What a consumer applies at a time unless told otherwise (the deployed consumer's defaults). */
export const CONSUMER_DEFAULTS = {
  /** Records per CAS batch, committed after each. */
  chunkSize: 2_000,
  /** Partitions applied in parallel. */
  partitionsConsumedConcurrently: 3,
} as const;

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
    const chunkSize = options.chunkSize ?? CONSUMER_DEFAULTS.chunkSize;
    const consumer = options.kafka.consumer({
      groupId: consumerGroupId(project, options.region),
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: Math.floor((options.sessionTimeoutMs ?? 10_000) / 3),
      maxBytesPerPartition: 4 * 1024 * 1024,
    });
    const deadLetters = options.kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: createKeyPartitioner,
    });
    await Promise.all([consumer.connect(), deadLetters.connect()]);
    await consumer.subscribe({ topic, fromBeginning: true });
    const observer = options.observer ?? {};

    const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
      const applier = new ChangelogApplier({
        store: options.store,
        reject: (records) => sendToDeadLetter(deadLetters, dlq, topic, records),
        shouldContinue: () => payload.isRunning() && !payload.isStale(),
        whileWaiting: () => payload.heartbeat(),
        onRetry: (what, error, attempt) => observer.retry?.(what, error, attempt),
        eventTime: options.eventTime,
      });
      await applyBatchInChunks(payload, applier, chunkSize, observer);
    };

    await consumer.run({
      // Offsets move only when a chunk is applied (resolveOffset), and every resolved offset
      // is committed at once (threshold 1), so a restart repeats at most one chunk.
      eachBatchAutoResolve: false,
      autoCommit: true,
      autoCommitThreshold: 1,
      partitionsConsumedConcurrently:
        options.partitionsConsumedConcurrently ?? CONSUMER_DEFAULTS.partitionsConsumedConcurrently,
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

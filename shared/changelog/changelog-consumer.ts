import type { Consumer, EachBatchPayload, Kafka, Producer } from "kafkajs";
import type { OnlineStore } from "../online-store/online-store.js";
import type { EventTimeLimit } from "../versions/event-time.js";
import { ChangelogApplier } from "./applier.js";
import { applyBatchInChunks } from "./batch-in-chunks.js";
import type { ChangelogSource, ConsumerObserver } from "./consumer-observer.js";
import { sendToDeadLetter } from "./dead-letter.js";
import { createKeyPartitioner } from "./partitioner.js";
import { RegistryCatchUp } from "./registry-catch-up.js";
import { ensureReplicatedChangelogTopics } from "./replicated-topics.js";
import { changelogTopic, deadLetterTopic, replicatedChangelogTopic } from "./topics.js";

export type { ChangelogSource, ConsumerObserver, PartitionLag } from "./consumer-observer.js";

export interface ChangelogConsumerOptions {
  kafka: Kafka;
  store: OnlineStore;
  /** The region this consumer applies to: one consumer group per region. */
  region: string;
  /**
   * The other regions whose changelogs replication carries into this Kafka: their copies
   * (`replicatedChangelogTopic`) are applied too, in the same group. Missing copies are created
   * at start (ensureReplicatedChangelogTopics). Default none: the local changelog alone.
   */
  peerRegions?: readonly string[];
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
  /**
   * How long a chunk with records of a view (or features) the store's registry does not have
   * waits for a newer registry before it dead-letters them (ignores the features), when the
   * registry follows a published one (default 10,000 ms; see RegistryCatchUp).
   */
  registryWaitMs?: number;
}

/** The default of ChangelogConsumerOptions.registryWaitMs. */
export const DEFAULT_REGISTRY_WAIT_MS = 10_000;

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

/** The topics a region's consumer applies: its own changelog first, then each peer's copy. */
export function changelogSources(
  project: string,
  region: string,
  peerRegions: readonly string[] = [],
): ChangelogSource[] {
  return [
    { topic: changelogTopic(project), region },
    ...peerRegions.map((peer) => ({
      topic: replicatedChangelogTopic(project, peer),
      region: peer,
    })),
  ];
}

/**
 * A region's changelog consumer: at-least-once delivery, made exactly-once in effect by the
 * CAS. Per chunk of a fetched batch: decode and validate, send bad records to the dead-letter
 * topic, apply the rest in one pipelined CAS batch, and only then resolve and commit the
 * offsets. A crash before the commit redelivers the chunk, which the CAS turns into no-ops.
 * With peers, the local changelog and every peer's replicated copy are consumed by the one
 * group, each partition of each topic applied the same way: the CAS on the total version order
 * makes the result independent of which topic delivers a key's versions first.
 */
export class ChangelogConsumer {
  private constructor(
    private readonly consumer: Consumer,
    private readonly deadLetters: Producer,
    /** Replicated topics this consumer created at start because replication had not yet. */
    readonly createdTopics: readonly string[],
  ) {}

  static async start(options: ChangelogConsumerOptions): Promise<ChangelogConsumer> {
    const project = options.store.project;
    const timeoutMs = options.registryWaitMs ?? DEFAULT_REGISTRY_WAIT_MS;
    const localCatchUp = new RegistryCatchUp(options.store.live, { timeoutMs });
    const peerCatchUp = new RegistryCatchUp(options.store.live, { timeoutMs, peerRecords: true });
    const sources = changelogSources(project, options.region, options.peerRegions);
    const byTopic = new Map(sources.map((source) => [source.topic, source]));
    const dlq = deadLetterTopic(project);
    const chunkSize = options.chunkSize ?? CONSUMER_DEFAULTS.chunkSize;
    const createdTopics = await ensureReplicatedTopics(options.kafka, project, options.peerRegions);
    const consumer = options.kafka.consumer({
      groupId: consumerGroupId(project, options.region),
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: Math.floor((options.sessionTimeoutMs ?? 10_000) / 3),
      maxBytesPerPartition: 4 * 1024 * 1024,
      // Topics it reads exist already; one the brokers created on request would not be compacted.
      allowAutoTopicCreation: false,
    });
    const deadLetters = options.kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: createKeyPartitioner,
    });
    await Promise.all([consumer.connect(), deadLetters.connect()]);
    await consumer.subscribe({ topics: sources.map((s) => s.topic), fromBeginning: true });
    const observer = options.observer ?? {};

    const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
      const source = byTopic.get(payload.batch.topic)!;
      const applier = new ChangelogApplier({
        store: options.store,
        // A poison record of a replicated topic goes to this region's dead-letter topic, its
        // source topic named in the headers: the peer's own consumer dead-letters it there too.
        reject: (records) => sendToDeadLetter(deadLetters, dlq, source.topic, records),
        shouldContinue: () => payload.isRunning() && !payload.isStale(),
        whileWaiting: () => payload.heartbeat(),
        onRetry: (what, error, attempt) => observer.retry?.(what, error, attempt),
        eventTime: options.eventTime,
        catchUp: source.region === options.region ? localCatchUp : peerCatchUp,
        // Read per chunk, after the batch was fetched: while a backfill runs, its view's live
        // records go to the active and the new generation (docs/backfill.md, "Live writes").
        generations: () => options.store.writingGenerations(),
      });
      await applyBatchInChunks(payload, applier, chunkSize, observer, source);
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
    return new ChangelogConsumer(consumer, deadLetters, createdTopics);
  }

  /** Leaves the group after the chunk in progress is applied and committed. */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.deadLetters.disconnect();
  }
}

async function ensureReplicatedTopics(
  kafka: Kafka,
  project: string,
  peerRegions: readonly string[] = [],
): Promise<string[]> {
  if (peerRegions.length === 0) return [];
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await ensureReplicatedChangelogTopics(admin, project, peerRegions);
  } finally {
    await admin.disconnect();
  }
}

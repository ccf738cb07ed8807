import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from "kafkajs";
import type { RejectedRecord } from "../changelog/applier.js";
import { sendToDeadLetter } from "../changelog/dead-letter.js";
import { createKeyPartitioner } from "../changelog/partitioner.js";
import { deadLetterTopic } from "../changelog/topics.js";
import { isStrataError, StrataError } from "../errors.js";
import type { RedisClient } from "../online-store/pipeline.js";
import type { FeatureRegistry } from "../registry/feature-registry.js";
import { aggregateScript, applyCalls, runApplyCalls, type ApplyResult } from "./apply-call.js";
import type { AggregationEvent } from "./event.js";
import {
  decodeWithinSkew,
  type AggregationDecoders,
  type AggregationSourceDecoder,
} from "./source-decoder.js";
import { pushSourceDecoder, topicSourceDecoder } from "./topic-source.js";
import { cdcSourceDecoder } from "./cdc-source.js";

/** What one chunk of one partition did. */
export interface AggregationOutcome {
  topic: string;
  partition: number;
  /** Per view major: events applied, replays skipped, too late (dead-lettered). */
  byView: Map<string, { applied: number; duplicates: number; late: number }>;
  /** Records dead-lettered: undecodable ones and too-late events. */
  rejected: RejectedRecord[];
  /** Latest event time applied in the chunk (ms), for event-time lag. */
  maxEventTsMs: number | undefined;
}

export interface AggregationObserver {
  applied?(outcome: AggregationOutcome): void;
  /** Records behind the partition's end after a fetched batch. */
  lag?(topic: string, partition: number, records: number): void;
  retry?(error: unknown, attempt: number): void;
}

export interface AggregationConsumerOptions {
  kafka: Kafka;
  redis: RedisClient;
  /** The registry to judge each chunk by (the live one's current registry). */
  registry: () => FeatureRegistry;
  region: string;
  /** Decoders replacing the built-in ones (push: the events topic, topic, cdc) by kind. */
  decoders?: AggregationDecoders;
  /** Records per pipelined batch of apply calls; offsets are committed after each (default 2,000). */
  chunkSize?: number;
  partitionsConsumedConcurrently?: number;
  sessionTimeoutMs?: number;
  /** Events timed later than their record's produce time plus this are dead-lettered (default 5 min). */
  maxEventTimeSkewMs?: number;
  observer?: AggregationObserver;
}

export function aggregationGroupId(project: string, region: string): string {
  return `strata.${project}.${region}.aggregations`;
}

/**
 * The aggregation consumer: reads every aggregation view source topic, groups a chunk's
 * events by entity, applies them with one script call per entity (pipelined), dead-letters
 * undecodable and too-late events, and only then commits the chunk's offsets. Kafka redelivers
 * after a crash; the offsets kept in each entity's hash turn the replay into no-ops.
 */
export class AggregationConsumer {
  private constructor(
    private readonly consumer: Consumer,
    private readonly deadLetters: Producer,
    /** The topics it reads. */
    readonly topics: readonly string[],
  ) {}

  static async start(options: AggregationConsumerOptions): Promise<AggregationConsumer> {
    const registry = options.registry();
    const project = registry.project;
    const decoders: AggregationDecoders = {
      push: pushSourceDecoder,
      topic: topicSourceDecoder,
      cdc: cdcSourceDecoder,
      ...options.decoders,
    };
    const byTopic = new Map<string, AggregationSourceDecoder>();
    for (const decoder of Object.values(decoders)) {
      for (const topic of decoder.topics(registry)) byTopic.set(topic, decoder);
    }
    const topics = [...byTopic.keys()];
    await Promise.all(
      registry.aggregationViews().map((view) => aggregateScript(view).loadOn(options.redis)),
    );
    const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
    const consumer = options.kafka.consumer({
      groupId: aggregationGroupId(project, options.region),
      sessionTimeout,
      heartbeatInterval: Math.floor(sessionTimeout / 3),
      maxBytesPerPartition: 4 * 1024 * 1024,
      allowAutoTopicCreation: false,
    });
    const deadLetters = options.kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: createKeyPartitioner,
    });
    await Promise.all([consumer.connect(), deadLetters.connect()]);
    if (topics.length > 0) await consumer.subscribe({ topics, fromBeginning: true });
    const dlq = deadLetterTopic(project);
    const chunkSize = options.chunkSize ?? 2_000;
    const skewMs = options.maxEventTimeSkewMs ?? 5 * 60_000;
    const observer = options.observer ?? {};

    const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
      const { topic, partition, messages } = payload.batch;
      const decoder = byTopic.get(topic)!;
      const running = () => payload.isRunning() && !payload.isStale();
      for (let start = 0; start < messages.length && running(); start += chunkSize) {
        const chunk = messages.slice(start, start + chunkSize);
        const registry = options.registry();
        const { events, origin, rejected } = decodeChunk(
          registry,
          decoder,
          topic,
          partition,
          chunk,
          skewMs,
        );
        const calls = applyCalls(registry.project, events);
        const results = await retrying(
          () => runApplyCalls(options.redis, calls),
          running,
          payload,
          observer,
        );
        if (!results) return; // stopping or lost the partition: nothing committed, redelivered.
        const outcome = summarize(
          topic,
          partition,
          calls.map((c) => c.events),
          results,
        );
        for (const event of results.flatMap((r) => r.late)) {
          const view = event.view.key;
          rejected.push({
            message: origin.get(event)!,
            partition,
            view,
            error: new StrataError(
              "STRATA_E_AGGREGATION_TOO_LATE",
              `event at ${new Date(event.eventTsMs).toISOString()} of ${view} is older than its entity's watermark minus the allowed lateness (${event.view.aggregation.allowedLatenessMs} ms)`,
              { view, eventTsMs: event.eventTsMs },
            ),
          });
        }
        outcome.rejected = rejected;
        if (rejected.length > 0) {
          const sent = await retrying(
            () => sendToDeadLetter(deadLetters, dlq, topic, rejected).then(() => true),
            running,
            payload,
            observer,
          );
          if (!sent) return;
        }
        payload.resolveOffset(chunk[chunk.length - 1]!.offset);
        await payload.commitOffsetsIfNecessary();
        await payload.heartbeat();
        observer.applied?.(outcome);
      }
      const lag = Number(payload.batch.offsetLag());
      if (Number.isFinite(lag)) observer.lag?.(topic, partition, lag);
    };

    await consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      autoCommitThreshold: 1,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 3,
      eachBatch,
    });
    return new AggregationConsumer(consumer, deadLetters, topics);
  }

  /** Leaves the group after the chunk in progress is applied and committed. */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.deadLetters.disconnect();
  }
}

function decodeChunk(
  registry: FeatureRegistry,
  decoder: AggregationSourceDecoder,
  topic: string,
  partition: number,
  chunk: readonly KafkaMessage[],
  skewMs: number,
): {
  events: AggregationEvent[];
  origin: Map<AggregationEvent, KafkaMessage>;
  rejected: RejectedRecord[];
} {
  const events: AggregationEvent[] = [];
  const origin = new Map<AggregationEvent, KafkaMessage>();
  const rejected: RejectedRecord[] = [];
  for (const message of chunk) {
    try {
      const decoded = decodeWithinSkew(decoder, registry, topic, partition, message, skewMs);
      for (const event of decoded) {
        events.push(event);
        origin.set(event, message);
      }
    } catch (error) {
      if (!isStrataError(error)) throw error;
      rejected.push({ message, partition, view: undefined, error });
    }
  }
  return { events, origin, rejected };
}

function summarize(
  topic: string,
  partition: number,
  callEvents: readonly (readonly AggregationEvent[])[],
  results: readonly ApplyResult[],
): AggregationOutcome {
  const byView = new Map<string, { applied: number; duplicates: number; late: number }>();
  let maxEventTsMs: number | undefined;
  results.forEach((result, i) => {
    const events = callEvents[i]!;
    const key = events[0]!.view.key;
    const counts = byView.get(key) ?? { applied: 0, duplicates: 0, late: 0 };
    counts.applied += result.applied;
    counts.duplicates += result.duplicates;
    counts.late += result.late.length;
    byView.set(key, counts);
    if (result.applied > 0) {
      for (const e of events) maxEventTsMs = Math.max(maxEventTsMs ?? e.eventTsMs, e.eventTsMs);
    }
  });
  return { topic, partition, byView, rejected: [], maxEventTsMs };
}

/** Retries until it succeeds or the partition stops being ours; undefined then. */
async function retrying<T>(
  attempt: () => Promise<T>,
  running: () => boolean,
  payload: EachBatchPayload,
  observer: AggregationObserver,
): Promise<T | undefined> {
  let delay = 100;
  for (let n = 1; running(); n++) {
    try {
      return await attempt();
    } catch (error) {
      observer.retry?.(error, n);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5_000);
      await payload.heartbeat().catch(() => undefined);
    }
  }
  return undefined;
}

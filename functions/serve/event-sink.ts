import type { Kafka, Producer } from "kafkajs";
import {
  aggregationEventsTopic,
  ensureAggregationEventsTopic,
} from "../../shared/aggregations/events-topic.js";
import { isStrataError, StrataError } from "../../shared/errors.js";
import { permanentKafkaError } from "../../shared/changelog/kafka-errors.js";
import { createKeyPartitioner } from "../../shared/changelog/partitioner.js";
import type { ChangelogTopicConfig } from "../../shared/changelog/topics.js";
import type { PushedEvent } from "./push-events.js";
import type { PushedEventSink } from "./push-write.js";

/**
 * Produces pushed events to `strata.<project>.events` (created if missing, as the ingest
 * process creates it) with an idempotent producer partitioning by key as the changelog
 * writer's does, and acks=all; `write` resolves once Kafka acknowledged
 * every event, within `ackTimeoutMs`.
 */
export class EventSink implements PushedEventSink {
  private constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly ackTimeoutMs: number,
  ) {}

  static async open(
    kafka: Kafka,
    project: string,
    topics: ChangelogTopicConfig,
    ackTimeoutMs: number,
  ): Promise<EventSink> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureAggregationEventsTopic(admin, project, topics);
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer({
      idempotent: true,
      createPartitioner: createKeyPartitioner,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: Math.max(1_000, ackTimeoutMs / 4) },
    });
    await producer.connect();
    return new EventSink(producer, aggregationEventsTopic(project), ackTimeoutMs);
  }

  async write(events: readonly PushedEvent[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error("deadline")), this.ackTimeoutMs);
    });
    try {
      await Promise.race([
        this.producer.send({
          topic: this.topic,
          acks: -1,
          timeout: this.ackTimeoutMs,
          messages: events.map((event) => event.message),
        }),
        deadline,
      ]);
    } catch (error) {
      if (isStrataError(error)) throw error;
      throw (
        permanentKafkaError(error) ??
        new StrataError(
          "STRATA_E_CHANGELOG_UNAVAILABLE",
          `Kafka did not acknowledge the push's ${events.length} aggregation event(s) within ${this.ackTimeoutMs} ms; they may still be written, and pushing them again may count them twice`,
          { events: events.length, topic: this.topic, mayStillBeWritten: true },
          { cause: error },
        )
      );
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    return this.producer.disconnect();
  }
}

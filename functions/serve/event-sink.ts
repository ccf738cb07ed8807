import type { Kafka, Producer } from "kafkajs";
import { isStrataError, StrataError } from "../../shared/errors.js";
import { permanentKafkaError } from "../../shared/changelog/kafka-errors.js";
import { createKeyPartitioner } from "../../shared/changelog/partitioner.js";
import type { ChangelogTopicConfig } from "../../shared/changelog/topics.js";
import type { PushedEvent } from "./push-events.js";
import type { PushedEventSink } from "./push-write.js";

/** The project's aggregation events topic (CONTRACTS.md "Aggregation events topic"). */
export function eventsTopic(project: string): string {
  return `strata.${project}.events`;
}

/**
 * The record of one pushed event: keyed `<view>@<major>/<encoded entity>`, so that one
 * entity's events of a view major come through one partition, in the order they were pushed;
 * the value is the events topic's JSON, schema 1.
 */
export function eventRecord(event: PushedEvent): { key: string; value: string } {
  const { view } = event;
  return {
    key: `${view.key}/${event.encodedKey}`,
    value: JSON.stringify({
      schema: 1,
      view: view.name,
      major: view.major,
      entity: event.encodedKey,
      eventTsMs: event.eventTsMs,
      values: event.values,
    }),
  };
}

/**
 * Produces pushed events to `strata.<project>.events` (created if missing, `cleanup.policy`
 * delete) with an idempotent producer and acks=all; `write` resolves once Kafka acknowledged
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
    const topic = eventsTopic(project);
    await ensureEventsTopic(kafka, topic, topics);
    const producer = kafka.producer({
      idempotent: true,
      createPartitioner: createKeyPartitioner,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: Math.max(1_000, ackTimeoutMs / 4) },
    });
    await producer.connect();
    return new EventSink(producer, topic, ackTimeoutMs);
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
          messages: events.map(eventRecord),
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

/** Creates the events topic when it does not exist (another process creating it too is fine). */
async function ensureEventsTopic(
  kafka: Kafka,
  topic: string,
  config: ChangelogTopicConfig,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(topic)) return;
    const brokers = (await admin.describeCluster()).brokers.length;
    const replicationFactor = Math.min(config.replicationFactor, brokers);
    await admin
      .createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic,
            numPartitions: config.partitions,
            replicationFactor,
            configEntries: [
              { name: "cleanup.policy", value: "delete" },
              {
                name: "min.insync.replicas",
                value: String(Math.min(config.minInSyncReplicas, replicationFactor)),
              },
            ],
          },
        ],
      })
      .catch((error: unknown) => {
        if ((error as { type?: string }).type !== "TOPIC_ALREADY_EXISTS") throw error;
      });
  } finally {
    await admin.disconnect();
  }
}

import type { Kafka, Producer } from "kafkajs";
import type { EncodedRecord } from "../changelog/record.js";
import { createKeyPartitioner } from "../changelog/partitioner.js";

/** Where repairs go: the changelog, acknowledged with acks=all before a record counts as re-published. */
export interface ChangelogPublisher {
  publish(records: readonly EncodedRecord[]): Promise<void>;
  close(): Promise<void>;
}

const SEND_BATCH = 1_000;

/**
 * A publisher over a kafkajs idempotent producer, with the key partitioner every Strata writer
 * uses, so a re-published record lands in its key's partition and compaction sees it as the
 * latest record of that key. Sends one batch at a time: kafkajs can lose records when sends
 * of an idempotent producer overlap (docs/changelog.md).
 */
export async function openKafkaPublisher(kafka: Kafka, topic: string): Promise<ChangelogPublisher> {
  const producer: Producer = kafka.producer({
    idempotent: true,
    allowAutoTopicCreation: false,
    createPartitioner: createKeyPartitioner,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
  await producer.connect();
  return {
    publish: async (records) => {
      for (let start = 0; start < records.length; start += SEND_BATCH) {
        await producer.send({
          topic,
          acks: -1,
          timeout: 10_000,
          messages: records
            .slice(start, start + SEND_BATCH)
            .map((r) => ({ key: r.key, value: r.value })),
        });
      }
    },
    close: () => producer.disconnect(),
  };
}

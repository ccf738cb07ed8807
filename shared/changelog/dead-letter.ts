import type { Producer } from "kafkajs";
import type { RejectedRecord } from "./applier.js";

/** Headers of a dead-letter record; the value and key are the original record's, untouched. */
export const DEAD_LETTER_HEADERS = {
  code: "strata-dlq-code",
  reason: "strata-dlq-reason",
  topic: "strata-dlq-source-topic",
  partition: "strata-dlq-source-partition",
  offset: "strata-dlq-source-offset",
  at: "strata-dlq-at",
} as const;

/**
 * Sends rejected records to the dead-letter topic with acks=all: the original key and value
 * (bytes as they were), and the reason, stable code and original position in headers, so a
 * fixed record can be re-produced and the partition never waits on a bad one.
 */
export async function sendToDeadLetter(
  producer: Producer,
  deadLetterTopic: string,
  sourceTopic: string,
  records: readonly RejectedRecord[],
): Promise<void> {
  const at = new Date().toISOString();
  await producer.send({
    topic: deadLetterTopic,
    acks: -1,
    messages: records.map(({ message, partition, error }) => ({
      key: message.key,
      value: message.value,
      headers: {
        [DEAD_LETTER_HEADERS.code]: error.code,
        [DEAD_LETTER_HEADERS.reason]: error.message,
        [DEAD_LETTER_HEADERS.topic]: sourceTopic,
        [DEAD_LETTER_HEADERS.partition]: String(partition),
        [DEAD_LETTER_HEADERS.offset]: message.offset,
        [DEAD_LETTER_HEADERS.at]: at,
      },
    })),
  });
}

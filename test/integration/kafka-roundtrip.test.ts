import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Partitioners, type Admin, type Kafka } from "kafkajs";
import { kafkaClient, uniqueName } from "../support/servers.js";

const PARTITIONS = 3;
const MESSAGES = 60;
const KEYS = 6;

describe("Kafka round trip through kafkajs against the real broker", () => {
  let kafka: Kafka;
  let admin: Admin;
  const topic = uniqueName("strata-test-roundtrip");

  before(async () => {
    kafka = kafkaClient("strata-test");
    admin = kafka.admin();
    await admin.connect();
  });
  after(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it("creates a topic with the admin API", async () => {
    assert.equal(
      await admin.createTopics({
        topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
        waitForLeaders: true,
      }),
      true,
    );
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(metadata.topics[0]?.partitions.length, PARTITIONS);
  });

  it("produces with acks=all and consumes every record once, in order per key", async () => {
    const producer = kafka.producer({
      idempotent: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const sent = Array.from({ length: MESSAGES }, (_, i) => ({
      key: `entity-${i % KEYS}`,
      value: JSON.stringify({ seq: i }),
    }));
    const acks = await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();
    assert.equal(acks.length > 0, true);

    const consumer = kafka.consumer({ groupId: uniqueName("strata-test-group") });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { key: string; seq: number; partition: number }[] = [];
    const allReceived = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`received ${received.length} of ${MESSAGES} records within 60s`)),
        60_000,
      );
      void consumer.run({
        eachMessage: ({ partition, message }) => {
          const { seq } = JSON.parse(message.value?.toString() ?? "{}") as { seq: number };
          received.push({ key: message.key?.toString() ?? "", seq, partition });
          if (received.length === MESSAGES) {
            clearTimeout(timer);
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
    try {
      await allReceived;
    } finally {
      await consumer.disconnect();
    }

    assert.deepEqual(
      received.map((r) => r.seq).sort((a, b) => a - b),
      sent.map((_, i) => i),
    );
    for (let k = 0; k < KEYS; k++) {
      const forKey = received.filter((r) => r.key === `entity-${k}`);
      assert.equal(new Set(forKey.map((r) => r.partition)).size, 1, "one key, one partition");
      const seqs = forKey.map((r) => r.seq);
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        `order of entity-${k}`,
      );
    }
    const partitionsUsed = new Set(received.map((r) => r.partition));
    assert.ok(partitionsUsed.size > 1, "records are spread over partitions");
  });
});

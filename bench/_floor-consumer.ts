// The floor's consumer as a process of its own, as Strata's consumer is: raw kafkajs reading
// every record of FLOOR_TOPIC in group FLOOR_GROUP (touching each value, as any consumer must),
// committing after each batch as Strata's does after each chunk.
import { Kafka, logLevel } from "kafkajs";

const kafka = new Kafka({
  clientId: "strata-bench-floor",
  brokers: process.env.KAFKA_BROKERS!.split(","),
  logLevel: logLevel.ERROR,
});
const consumer = kafka.consumer({
  groupId: process.env.FLOOR_GROUP!,
  maxBytesPerPartition: 4 * 1024 * 1024,
  sessionTimeout: 10_000,
});
await consumer.connect();
await consumer.subscribe({ topic: process.env.FLOOR_TOPIC!, fromBeginning: true });
let bytes = 0;
await consumer.run({
  autoCommitThreshold: 1,
  partitionsConsumedConcurrently: 3,
  eachBatch: ({ batch }) => {
    for (const message of batch.messages) bytes += message.value?.length ?? 0;
    return Promise.resolve();
  },
});
process.on("SIGTERM", () => {
  void consumer.disconnect().then(() => {
    process.stdout.write(`read ${bytes} bytes\n`);
    process.exit(0);
  });
});

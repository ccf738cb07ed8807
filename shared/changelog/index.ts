export * from "./changelog-writer.js";
export * from "./changelog-consumer.js";
export {
  ApplyAborted,
  ChangelogApplier,
  type ApplyOutcome,
  type RejectedRecord,
} from "./applier.js";
export { DEAD_LETTER_HEADERS } from "./dead-letter.js";
export {
  createKafka,
  kafkaConnection,
  type KafkaConnection,
  type KafkaLog,
} from "./kafka-client.js";
export * from "./record.js";
export * from "./replay.js";
export * from "./topics.js";
export { committedLag, waitUntilCommitted } from "./committed-lag.js";
export { ensureReplicatedChangelogTopics } from "./replicated-topics.js";
export { repairKey, type RepairKeyOptions, type RepairKeyReport } from "./repair-key.js";
export { RegistryCatchUp, type RegistryCatchUpOptions } from "./registry-catch-up.js";

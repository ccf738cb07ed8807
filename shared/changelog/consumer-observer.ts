import type { ApplyOutcome } from "./applier.js";

export interface PartitionLag {
  /** Records in the partition after the last applied one. */
  records: number;
  /** Applied time minus the produce time (Kafka's CreateTime) of the last applied record. */
  produceToAppliedMs: number;
  /** Applied time minus the newest event time in the last applied chunk. */
  eventToAppliedMs: number | undefined;
}

/**
 * What a regional consumer reports, for metrics and logs. `applied` and `lag` are called once
 * per chunk, after Redis applied it and before its offset is resolved, so a committed offset
 * has always been reported (a chunk redelivered after a failed commit is reported again).
 */
export interface ConsumerObserver {
  applied?(outcome: ApplyOutcome): void;
  lag?(partition: number, lag: PartitionLag): void;
  retry?(what: "apply" | "reject", error: unknown, attempt: number): void;
}

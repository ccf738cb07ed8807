import type { ApplyOutcome } from "./applier.js";

/**
 * Where a chunk came from: the topic, and the region whose writers produced it (this region
 * for the local changelog, the peer for a replicated one). The region comes from the
 * consumer's own configuration, never from the records, so it is a bounded metric label.
 */
export interface ChangelogSource {
  topic: string;
  region: string;
}

export interface PartitionLag {
  /** Records in the partition after the last applied one. */
  records: number;
  /** Applied time minus the produce time (Kafka's CreateTime) of the last applied record. */
  produceToAppliedMs: number;
  /** Applied time minus the newest event time in the last applied chunk. */
  eventToAppliedMs: number | undefined;
  /**
   * Applied time minus the earliest produce time in the chunk: the chunk's slowest record from
   * its writer's produce to this apply. MirrorMaker 2 keeps a record's timestamp, so for a
   * replicated record this is replication plus apply.
   */
  maxProduceToAppliedMs: number;
  /** Applied time minus the earliest event time among the chunk's applied records. */
  maxEventToAppliedMs: number | undefined;
}

/**
 * What a regional consumer reports, for metrics and logs. `applied` and `lag` are called once
 * per chunk, after Redis applied it and before its offset is resolved, so a committed offset
 * has always been reported (a chunk redelivered after a failed commit is reported again).
 */
export interface ConsumerObserver {
  applied?(outcome: ApplyOutcome, source: ChangelogSource): void;
  lag?(partition: number, lag: PartitionLag, source: ChangelogSource): void;
  retry?(what: "apply" | "reject", error: unknown, attempt: number): void;
}

import { randomUUID } from "node:crypto";
import type { Kafka, KafkaMessage } from "kafkajs";

/** Offsets to read in one partition: from `from` (inclusive) to `end` (exclusive). */
export interface OffsetRange {
  from: bigint;
  end: bigint;
}

export interface ReadRangesOptions {
  /** Prefix of the throwaway consumer group's name (`<prefix>.<uuid>`). */
  groupPrefix: string;
  /** Partitions whose batches are handled at once (kafkajs' `partitionsConsumedConcurrently`). */
  partitionsConsumedConcurrently?: number;
}

/**
 * Each batch's records that fall in their partition's range, in offset order. `heartbeat`
 * keeps the group alive during long work on one batch.
 */
export type RangeBatchHandler = (
  partition: number,
  messages: KafkaMessage[],
  heartbeat: () => Promise<void>,
) => Promise<void> | void;

/**
 * Reads the given offset ranges of a topic with a throwaway consumer group that commits
 * nothing, and resolves once every partition reached its range's end. The group is deleted
 * afterwards. What replay, key repair and reconciliation's changelog check share: reading
 * part of a log, not following it.
 */
export async function readTopicRanges(
  kafka: Kafka,
  topic: string,
  ranges: ReadonlyMap<number, OffsetRange>,
  onBatch: RangeBatchHandler,
  options: ReadRangesOptions,
): Promise<void> {
  const remaining = new Map<number, { next: bigint; end: bigint }>();
  for (const [partition, { from, end }] of ranges) {
    if (from < end) remaining.set(partition, { next: from, end });
  }
  if (remaining.size === 0) return;
  const groupId = `${options.groupPrefix}.${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 4 * 1024 * 1024 });
  let finish!: () => void;
  let fail!: (error: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  consumer.on(consumer.events.CRASH, (event) => fail(event.payload.error));
  await consumer.connect();
  try {
    // Partitions outside the ranges start at their end (a new group, not from the beginning)
    // and are never read; those inside are moved to their first offset below.
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const state = remaining.get(batch.partition);
        if (!state) return;
        const wanted = batch.messages.filter((m) => {
          const offset = BigInt(m.offset);
          return offset >= state.next && offset < state.end;
        });
        if (wanted.length > 0) await onBatch(batch.partition, wanted, () => payload.heartbeat());
        // A compacted log has gaps: the batch's last offset, not a count, says how far we are.
        const last = batch.messages[batch.messages.length - 1];
        if (last) state.next = BigInt(last.offset) + 1n;
        if (state.next >= state.end || BigInt(batch.highWatermark) <= state.next) {
          remaining.delete(batch.partition);
        }
        if (remaining.size === 0) finish();
      },
    });
    // Each partition starts at its own range's first offset.
    for (const [partition, state] of remaining) {
      consumer.seek({ topic, partition, offset: state.next.toString() });
    }
    await done;
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

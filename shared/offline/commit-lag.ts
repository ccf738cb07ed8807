import type { Admin } from "kafkajs";
import type { ProducedBatch } from "./projector.js";
import { offlineSinkGroupId, offlineTopic } from "./topics.js";

/** Per offline partition: its end offset and the sink's committed offset (-1: none yet). */
export interface SinkPartitionOffsets {
  partition: number;
  end: number;
  committed: number;
}

/**
 * The offline topic's end offsets and the Iceberg sink's committed offsets. The sink commits
 * its consumer offsets in the same Kafka transaction as the table commit it coordinates, so
 * a record below the committed offset is in a table snapshot, and one at or above it is not
 * yet (end - committed is the commit lag in records).
 */
export async function sinkOffsets(admin: Admin, project: string): Promise<SinkPartitionOffsets[]> {
  const topic = offlineTopic(project);
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId: offlineSinkGroupId(project), topics: [topic] }),
  ]);
  const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
  return ends.map((end) => {
    const offset = done.get(end.partition) ?? -1;
    return {
      partition: end.partition,
      end: Number(end.high),
      // Nothing committed yet: everything from the log start is pending.
      committed: offset < 0 ? Number(end.low) : offset,
    };
  });
}

/**
 * When this process' records reached the offline topic, per partition, until the sink has
 * committed them: the age of the oldest one not yet committed is the table's staleness
 * (strata_offline_commit_lag_seconds). Memory stays bounded by what is in flight: batches the
 * sink committed are dropped at every update.
 */
export class UncommittedAge {
  private readonly batches = new Map<number, ProducedBatch[]>();

  produced(batches: readonly ProducedBatch[]): void {
    for (const batch of batches) {
      let list = this.batches.get(batch.partition);
      if (!list) this.batches.set(batch.partition, (list = []));
      list.push(batch);
    }
  }

  /**
   * Drops what the sink committed; returns the oldest remaining acknowledgement time
   * (undefined when everything this process produced is committed).
   */
  update(offsets: readonly SinkPartitionOffsets[]): number | undefined {
    let oldest: number | undefined;
    for (const { partition, committed, end } of offsets) {
      const list = this.batches.get(partition);
      if (!list) continue;
      if (committed >= end) {
        this.batches.delete(partition);
        continue;
      }
      // A batch is wholly committed when the next one starts at or below the committed offset.
      while (list.length > 1 && list[1]!.baseOffset <= committed) list.shift();
      const first = list[0];
      if (first && (oldest === undefined || first.atMs < oldest)) oldest = first.atMs;
    }
    return oldest;
  }
}

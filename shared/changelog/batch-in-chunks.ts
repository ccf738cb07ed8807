import type { EachBatchPayload } from "kafkajs";
import { ApplyAborted, type ApplyOutcome, type ChangelogApplier } from "./applier.js";
import type { ChangelogSource, ConsumerObserver } from "./consumer-observer.js";

/** The part of kafkajs' eachBatch payload that applying a batch uses. */
export type BatchPayload = Pick<
  EachBatchPayload,
  "batch" | "resolveOffset" | "commitOffsetsIfNecessary" | "heartbeat" | "isRunning" | "isStale"
>;

/**
 * Applies one fetched batch chunk by chunk: apply, report, resolve the chunk's last offset,
 * commit, heartbeat. Stops between chunks once the consumer stops or loses the partition.
 *
 * The observer hears of a chunk before its offset is resolved: kafkajs commits every
 * resolved offset of the consumer at once, so another partition's commit (or kafkajs'
 * commit on the way out of a failed batch) can make this chunk's offset committed before
 * this batch's own commit returns. Reporting after the commit would then lose the chunk
 * from the counters whenever that commit fails, and could report it late when it does not.
 */
export async function applyBatchInChunks(
  payload: BatchPayload,
  applier: Pick<ChangelogApplier, "apply">,
  chunkSize: number,
  observer: ConsumerObserver,
  source: ChangelogSource,
): Promise<void> {
  const { batch } = payload;
  for (let start = 0; start < batch.messages.length; start += chunkSize) {
    if (!payload.isRunning() || payload.isStale()) return;
    const chunk = batch.messages.slice(start, start + chunkSize);
    let outcome: ApplyOutcome;
    try {
      outcome = await applier.apply(chunk, batch.partition);
    } catch (error) {
      if (error instanceof ApplyAborted) return;
      throw error;
    }
    const last = chunk[chunk.length - 1]!;
    const now = Date.now();
    observer.applied?.(outcome, source);
    if (observer.lag) {
      let earliestProduced = Number(last.timestamp);
      for (const message of chunk) {
        const produced = Number(message.timestamp);
        if (produced < earliestProduced) earliestProduced = produced;
      }
      observer.lag(
        batch.partition,
        {
          records: Math.max(0, Number(batch.highWatermark) - Number(last.offset) - 1),
          produceToAppliedMs: now - Number(last.timestamp),
          eventToAppliedMs:
            outcome.maxEventTsMs === undefined ? undefined : now - outcome.maxEventTsMs,
          maxProduceToAppliedMs: now - earliestProduced,
          maxEventToAppliedMs:
            outcome.minEventTsMs === undefined ? undefined : now - outcome.minEventTsMs,
        },
        source,
      );
    }
    payload.resolveOffset(last.offset);
    await payload.commitOffsetsIfNecessary();
    await payload.heartbeat();
  }
}

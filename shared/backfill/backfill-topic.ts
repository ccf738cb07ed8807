import type { Admin, Kafka, KafkaMessage } from "kafkajs";
import { retryRetriable } from "../changelog/kafka-errors.js";
import { ensureDeleteTopic, type ChangelogTopicConfig } from "../changelog/topics.js";
import type { TopicOffsets } from "./state.js";

/** The project's backfill topic: backfill rows travel here, never through the changelog. */
export function backfillTopic(project: string): string {
  return `strata.${project}.backfill`;
}

/** Headers of a backfill record; its value is a changelog record (schema 1) with the backfill's epoch. */
export const BACKFILL_HEADERS = {
  id: "strata-backfill",
  row: "strata-backfill-row",
  generation: "strata-backfill-generation",
} as const;

/** How long the backfill topic keeps records: long enough to verify and resume, then deleted. */
export const BACKFILL_RETENTION_MS = 7 * 24 * 3_600_000;

/** Creates the backfill topic if missing (delete policy: it is a transport, not a history). */
export async function ensureBackfillTopic(
  admin: Admin,
  project: string,
  topics: ChangelogTopicConfig,
): Promise<void> {
  await ensureDeleteTopic(admin, backfillTopic(project), topics, {
    "retention.ms": String(BACKFILL_RETENTION_MS),
  });
}

/** Each partition's end offset (the next offset to be written), as decimal strings. */
export async function endOffsets(admin: Admin, topic: string): Promise<Record<string, string>> {
  const offsets: Record<string, string> = {};
  for (const p of await retryRetriable(() => admin.fetchTopicOffsets(topic)))
    offsets[String(p.partition)] = p.high;
  return offsets;
}

/** Each partition's first offset still in the log. */
export async function startOffsets(admin: Admin, topic: string): Promise<Record<string, string>> {
  const offsets: Record<string, string> = {};
  for (const p of await retryRetriable(() => admin.fetchTopicOffsets(topic)))
    offsets[String(p.partition)] = p.low;
  return offsets;
}

/** Records of `topic` not yet before `next`, up to `end`, per partition. */
export function remainingRanges(
  next: Record<string, string>,
  end: Record<string, string>,
): Map<number, { from: bigint; end: bigint }> {
  const ranges = new Map<number, { from: bigint; end: bigint }>();
  for (const [partition, last] of Object.entries(end)) {
    const from = BigInt(next[partition] ?? "0");
    if (from < BigInt(last)) ranges.set(Number(partition), { from, end: BigInt(last) });
  }
  return ranges;
}

/** Records between `next` and `end` over every topic. */
export function countRemaining(next: TopicOffsets, end: TopicOffsets): number {
  let total = 0;
  for (const [topic, ends] of Object.entries(end)) {
    for (const r of remainingRanges(next[topic] ?? {}, ends).values())
      total += Number(r.end - r.from);
  }
  return total;
}

export function header(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  if (value === undefined) return undefined;
  return Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
}

export type { Kafka };

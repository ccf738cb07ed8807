import { randomUUID } from "node:crypto";
import type { Kafka } from "kafkajs";
import { isStrataError, StrataError } from "../errors.js";
import { decodeChangelogRecord } from "../changelog/record.js";
import type { FeatureRegistry } from "../registry/feature-registry.js";

/** The version of the last record of each (view major, entity) in a changelog topic. */
export interface ChangelogLatest {
  /** view key → Redis key of the entity → encoded version of its last record. */
  byView: Map<string, Map<string, string>>;
  records: number;
  /** Records the registry cannot decode (dead-lettered when they were consumed live). */
  undecodable: number;
}

/**
 * Reads a changelog topic from its start to the end offsets seen when called, with a
 * throwaway consumer group that commits nothing, and keeps the version of the LAST record per
 * key: the record log compaction keeps, whatever its version. Where that version is older
 * than what the regions store, a replay of the compacted log would restore the older value.
 * Costs a replay's read of the log (without its Redis writes), and memory per key.
 */
export async function readChangelogLatest(
  kafka: Kafka,
  topic: string,
  registry: FeatureRegistry,
  onRecords?: (records: number, total: number) => void,
): Promise<ChangelogLatest> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `strata.reconcile.${randomUUID()}`;
  const latest: ChangelogLatest = { byView: new Map(), records: 0, undecodable: 0 };
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      throw new StrataError(
        "STRATA_E_BAD_CONFIG",
        `the changelog ${topic} does not exist on these brokers`,
        { topic },
      );
    }
    const remaining = new Map<number, bigint>();
    let total = 0;
    for (const p of await admin.fetchTopicOffsets(topic)) {
      if (BigInt(p.high) > BigInt(p.low)) remaining.set(p.partition, BigInt(p.high));
      total += Number(BigInt(p.high) - BigInt(p.low));
    }
    if (remaining.size === 0) return latest;
    const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 4 * 1024 * 1024 });
    await consumer.connect();
    try {
      let finish!: () => void;
      let fail!: (error: unknown) => void;
      const done = new Promise<void>((resolve, reject) => {
        finish = resolve;
        fail = reject;
      });
      consumer.on(consumer.events.CRASH, (event) => fail(event.payload.error));
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: ({ batch }) => {
          const end = remaining.get(batch.partition);
          if (end === undefined) return Promise.resolve();
          for (const message of batch.messages) {
            if (BigInt(message.offset) >= end) break;
            latest.records++;
            note(latest, registry, message.key?.toString("utf8"), message.value?.toString("utf8"));
          }
          onRecords?.(latest.records, total);
          const last = batch.messages[batch.messages.length - 1];
          // A compacted log has gaps: the last offset read, not a count, says how far we are.
          if (last && BigInt(last.offset) + 1n >= end) remaining.delete(batch.partition);
          if (remaining.size === 0) finish();
          return Promise.resolve();
        },
      });
      await done;
    } finally {
      await consumer.disconnect();
    }
    return latest;
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

function note(
  latest: ChangelogLatest,
  registry: FeatureRegistry,
  key: string | undefined,
  value: string | undefined,
): void {
  try {
    const write = decodeChangelogRecord(registry, key, value);
    let versions = latest.byView.get(write.view.key);
    if (!versions) latest.byView.set(write.view.key, (versions = new Map<string, string>()));
    versions.set(write.redisKey, write.encodedVersion);
  } catch (error) {
    if (!isStrataError(error)) throw error;
    latest.undecodable++;
  }
}

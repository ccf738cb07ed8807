import type { Kafka } from "kafkajs";
import { isStrataError, StrataError } from "../errors.js";
import { readTopicRanges, type OffsetRange } from "../changelog/read-ranges.js";
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
  const latest: ChangelogLatest = { byView: new Map(), records: 0, undecodable: 0 };
  const ranges = new Map<number, OffsetRange>();
  let total = 0;
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      throw new StrataError(
        "STRATA_E_BAD_CONFIG",
        `the changelog ${topic} does not exist on these brokers`,
        { topic },
      );
    }
    for (const p of await admin.fetchTopicOffsets(topic)) {
      ranges.set(p.partition, { from: BigInt(p.low), end: BigInt(p.high) });
      total += Number(BigInt(p.high) - BigInt(p.low));
    }
  } finally {
    await admin.disconnect();
  }
  await readTopicRanges(
    kafka,
    topic,
    ranges,
    (_partition, messages) => {
      for (const message of messages) {
        latest.records++;
        note(latest, registry, message.key?.toString("utf8"), message.value?.toString("utf8"));
      }
      onRecords?.(latest.records, total);
    },
    { groupPrefix: "strata.reconcile" },
  );
  return latest;
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

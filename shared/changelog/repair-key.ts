import type { Kafka, KafkaMessage } from "kafkajs";
import { StrataError } from "../errors.js";
import { encodeEntityKey, entityRedisKey } from "../key-codec.js";
import type { OnlineStore } from "../online-store/online-store.js";
import type { RedisClient } from "../online-store/pipeline.js";
import type { EventTimeLimit } from "../versions/event-time.js";
import { compareVersions, type Version } from "../versions/version.js";
import { ChangelogApplier } from "./applier.js";
import { createKeyPartitioner, keyPartition } from "./partitioner.js";
import { readTopicRanges } from "./read-ranges.js";
import { decodeChangelogRecord, recordKey } from "./record.js";
import { changelogTopic } from "./topics.js";

export interface RepairKeyOptions {
  kafka: Kafka;
  store: OnlineStore;
  /** The client `store` writes through: the row's fields are deleted with it. */
  client: RedisClient;
  /** `view` (latest major) or `view@major`. */
  view: string;
  /** The entity's join keys, e.g. `{ driver_id: 1001 }`. */
  entity: Record<string, unknown>;
  /** The event-time limit records are judged by (as the consumer judges them). */
  eventTime?: Partial<EventTimeLimit>;
}

export interface RepairKeyReport {
  /** The changelog key, `<view>@<major>/<encoded entity>`, and its partition. */
  key: string;
  partition: number;
  /** Hash fields of the view major (every generation) deleted from the entity's hash. */
  deletedFields: number;
  /** Records of the key in the changelog: applied again, or rejected (e.g. a future event time). */
  records: number;
  rejected: { offset: string; code: string }[];
  /** The version the row holds after the repair (undefined: no valid record, the row is absent). */
  restored: Version | undefined;
  /** Whether that winning record was produced again, to be the key's last record. */
  republished: boolean;
}

/**
 * Repairs one row of the online store, typically one locked by a record from the far future
 * (written before writers refused them): an event time ranks first, so such a row beats every
 * later real write, and backfills too.
 *
 * 1. Deletes the row (every generation of the view major) from the entity's Redis hash.
 * 2. Reads the key's changelog partition from its start to its end as of now, and applies the
 *    key's records again with the consumer's checks and CAS: those with an event time beyond
 *    their produce time plus the allowed skew are rejected, so the row ends at the highest
 *    valid version, exactly what a replay of the changelog rebuilds.
 * 3. Produces that winning record again (same bytes, same version: every region's CAS sees it
 *    as stale), so that it is the key's last record and compaction drops the locked one.
 *
 * Live writes of the key during the repair are safe in Redis (the CAS keeps the highest
 * version), but one produced before step 3 is no longer the key's last record in the log;
 * write the key again afterwards if that matters (docs/changelog.md, "Repairing a locked row").
 */
export async function repairKey(options: RepairKeyOptions): Promise<RepairKeyReport> {
  const registry = options.store.registry;
  const view = registry.viewByRef(options.view);
  const encoded = encodeEntityKey(view.joinKeys, options.entity);
  const key = recordKey(view.key, encoded);
  const topic = changelogTopic(registry.project);

  const redisKey = entityRedisKey(registry.project, view.entitySet, encoded);
  const prefix = `${view.key}#`;
  const fields = (await options.client.hkeys(redisKey)).filter((f) => f.startsWith(prefix));
  if (fields.length > 0) await options.client.hdel(redisKey, ...fields);

  const admin = options.kafka.admin();
  await admin.connect();
  let offsets: { partition: number; low: string; high: string }[];
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      throw new StrataError("STRATA_E_BAD_CONFIG", `the changelog ${topic} does not exist`, {
        topic,
      });
    }
    // Read after the delete: whatever was applied before it is in the log before this end.
    offsets = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const partition = keyPartition(key, offsets.length);
  const { low, high } = offsets.find((o) => o.partition === partition)!;
  const messages = await readKeyRecords(
    options.kafka,
    topic,
    partition,
    BigInt(low),
    BigInt(high),
    key,
  );

  const rejected: RepairKeyReport["rejected"] = [];
  const applier = new ChangelogApplier({
    store: options.store,
    reject: (records) => {
      for (const r of records) rejected.push({ offset: r.message.offset, code: r.error.code });
      return Promise.resolve();
    },
    shouldContinue: () => true,
    eventTime: options.eventTime,
  });
  if (messages.length > 0) await applier.apply(messages, partition);

  const refused = new Set(rejected.map((r) => r.offset));
  let winner: { message: KafkaMessage; version: Version } | undefined;
  for (const message of messages) {
    if (refused.has(message.offset)) continue;
    const { version } = decodeChangelogRecord(registry, key, message.value!.toString("utf8"));
    if (!winner || compareVersions(version, winner.version) > 0) winner = { message, version };
  }
  if (winner) {
    const producer = options.kafka.producer({ createPartitioner: createKeyPartitioner });
    await producer.connect();
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: [{ key: winner.message.key, value: winner.message.value }],
      });
    } finally {
      await producer.disconnect();
    }
  }
  return {
    key,
    partition,
    deletedFields: fields.length,
    records: messages.length,
    rejected,
    restored: winner?.version,
    republished: winner !== undefined,
  };
}

/** The records of `key` in one partition, offsets [from, end), with a throwaway group. */
export async function readKeyRecords(
  kafka: Kafka,
  topic: string,
  partition: number,
  from: bigint,
  end: bigint,
  key: string,
): Promise<KafkaMessage[]> {
  const found: KafkaMessage[] = [];
  await readTopicRanges(
    kafka,
    topic,
    new Map([[partition, { from, end }]]),
    (_partition, messages) => {
      for (const message of messages)
        if (message.key?.toString("utf8") === key) found.push(message);
    },
    { groupPrefix: "strata.repair" },
  );
  return found;
}

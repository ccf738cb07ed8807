// The changelog of a test project on the real Kafka of the local stack: its topics, a writer,
// consumers, and offsets to wait on. Every test project has its own topics, deleted at the end.
import type { Admin, Kafka } from "kafkajs";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import {
  ChangelogConsumer,
  ChangelogWriter,
  changelogTopic,
  consumerGroupId,
  createKafka,
  deadLetterTopic,
  ensureChangelogTopics,
  type ChangelogTopicConfig,
  type ConsumerObserver,
  waitUntilCommitted,
} from "../../shared/changelog/index.js";
import { Redis } from "ioredis";
import {
  OnlineStore,
  regionChecksum,
  type ViewChecksum,
  type WriteRow,
} from "../../shared/online-store/index.js";
import { compareVersions } from "../../shared/versions/index.js";
import { startStandalone } from "./redis-process.js";
import type { FeatureRegistry } from "../../shared/registry/index.js";

export const TEST_TOPICS: ChangelogTopicConfig = {
  partitions: 3,
  replicationFactor: 1,
  minInSyncReplicas: 1,
  reconciliationWindowMs: 3_600_000,
  deadLetterRetentionMs: 3_600_000,
};

export interface ChangelogFixture {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  dlq: string;
  openWriter: (
    store?: OnlineStore,
    queue?: { maxRecords?: number; batchSize?: number; lingerMs?: number },
  ) => Promise<ChangelogWriter>;
  startConsumer: (
    store: OnlineStore,
    region: string,
    observer?: ConsumerObserver,
  ) => Promise<ChangelogConsumer>;
  /** Log end offset per partition. */
  endOffsets: () => Promise<Map<number, number>>;
  /** The region's committed offset per partition (-1: none). */
  committed: (region: string) => Promise<Map<number, number>>;
  /** Waits until the region committed everything in the log; returns the milliseconds it took. */
  waitCaughtUp: (region: string, timeoutMs: number) => Promise<number>;
  cleanup: () => Promise<void>;
}

export async function changelogFixture(registry: FeatureRegistry): Promise<ChangelogFixture> {
  const kafka = createKafka(
    { brokers: resolveEndpoints().kafka.address, clientId: "strata-test" },
    // Transient broker errors are retried by kafkajs; tests judge outcomes, not logs.
    () => undefined,
  );
  const admin = kafka.admin();
  await admin.connect();
  await ensureChangelogTopics(admin, registry.project, TEST_TOPICS);
  const topic = changelogTopic(registry.project);
  const closers: (() => Promise<unknown>)[] = [];
  const endOffsets = async () =>
    new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
  const committed = async (region: string) => {
    const [offsets] = await admin.fetchOffsets({
      groupId: consumerGroupId(registry.project, region),
      topics: [topic],
    });
    return new Map(offsets!.partitions.map((p) => [p.partition, Number(p.offset)]));
  };
  return {
    kafka,
    admin,
    topic,
    dlq: deadLetterTopic(registry.project),
    openWriter: async (store, queue) => {
      const writer = await ChangelogWriter.open({ kafka, registry, store, queue });
      closers.push(() => writer.close(5_000));
      return writer;
    },
    startConsumer: async (store, region, observer) => {
      const consumer = await ChangelogConsumer.start({
        kafka,
        store,
        region,
        observer,
        chunkSize: 500,
      });
      closers.push(() => consumer.stop());
      return consumer;
    },
    endOffsets,
    committed,
    waitCaughtUp: (region, timeoutMs) =>
      waitUntilCommitted(admin, consumerGroupId(registry.project, region), topic, timeoutMs, 50),
    cleanup: async () => {
      for (const close of closers.reverse()) await close().catch(() => undefined);
      await admin
        .deleteTopics({ topics: [topic, deadLetterTopic(registry.project)] })
        .catch(() => undefined);
      await admin.disconnect();
    },
  };
}

/** The state a changelog must converge to: the highest version of each driver (stats rows). */
export function latestPerDriver(rows: readonly WriteRow[]): WriteRow[] {
  const latest = new Map<unknown, WriteRow>();
  for (const row of rows) {
    const current = latest.get(row.entity.driver_id);
    if (!current || compareVersions(row.version, current.version) > 0) {
      latest.set(row.entity.driver_id, row);
    }
  }
  return [...latest.values()];
}

/** The checksums of a fresh test-owned Redis holding exactly these rows. */
export async function checksumsOf(
  registry: FeatureRegistry,
  rows: readonly WriteRow[],
): Promise<ViewChecksum[]> {
  const redis = await startStandalone();
  const client = new Redis(redis.url);
  try {
    const store = await OnlineStore.open({ client, registry, hotCache: false });
    await store.write(rows);
    return await regionChecksum(client, registry);
  } finally {
    client.disconnect();
    await redis.stop();
  }
}

import type { Admin } from "kafkajs";
import { serviceReadiness, type ServiceReadiness } from "../../shared/backfill/readiness.js";
import { changelogSources, consumerGroupId } from "../../shared/changelog/changelog-consumer.js";
import { committedLag } from "../../shared/changelog/committed-lag.js";
import { createKafka, kafkaConnection } from "../../shared/changelog/kafka-client.js";
import type { OnlineStore, RedisClient } from "../../shared/online-store/index.js";
import type { ServeChangelogConfig } from "./config.js";

/** How long one reading of the consumer's committed lag answers probes (ms). */
const LAG_CACHE_MS = 1_000;

/**
 * GET /ready/feature-services/<name> on the admin port: whether each view major the service
 * reads is populated, and the region's consumer caught up (its committed lag, read from the
 * brokers like the consumer's own lag metric: shared/changelog/committed-lag.ts).
 */
export function createServiceReadiness(
  client: RedisClient,
  store: OnlineStore,
  changelog: ServeChangelogConfig | undefined,
  maxLagRecords: number,
): { check: (service: string) => Promise<ServiceReadiness>; close: () => Promise<void> } {
  let admin: Admin | undefined;
  let cached: { at: number; records: Promise<number> } | undefined;
  const lag = async (): Promise<number> => {
    if (!changelog)
      throw new Error("no Kafka configured (KAFKA_BROKERS): the consumer's lag cannot be read");
    if (!admin) {
      const kafka = createKafka(
        kafkaConnection(changelog.kafka, `strata-serve-ready-${changelog.region}`),
        () => undefined,
      );
      const connecting = kafka.admin();
      await connecting.connect();
      admin = connecting;
    }
    const reader = admin;
    const project = store.project;
    const groupId = consumerGroupId(project, changelog.region);
    const sources = changelogSources(project, changelog.region, changelog.peerRegionNames ?? []);
    let total = 0;
    for (const source of sources) {
      for (const records of (await committedLag(reader, groupId, source.topic)).values())
        total += records;
    }
    return total;
  };
  return {
    check: (service) => {
      if (!cached || Date.now() - cached.at > LAG_CACHE_MS) {
        const records = lag();
        records.catch(() => (cached = undefined));
        cached = { at: Date.now(), records };
      }
      const records = cached.records;
      return serviceReadiness(client, store.registry, service, () => records, maxLagRecords);
    },
    close: async () => {
      await admin?.disconnect();
    },
  };
}

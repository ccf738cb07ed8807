// The CDC mapper inside the ingest process (STRATA_CDC=on): Debezium's connectors on a Connect
// worker (STRATA_CONNECT_URL), the table topics consumed, changes written to the changelog.
import type { Admin, Kafka } from "kafkajs";
import { ChangelogWriter } from "../../shared/changelog/changelog-writer.js";
import { errorField, log } from "../../shared/log.js";
import type { LiveRegistry } from "../../shared/registry/index.js";
import { CdcMapper, cdcGroupId } from "../../shared/sources/cdc-mapper.js";
import type { CdcConfig } from "./cdc-config.js";

export interface CdcRunner {
  stop(): Promise<void>;
}

/**
 * Starts the mapper with a changelog writer of its own (no store: it never waits on Redis; the
 * changelog consumer applies its records like any other). Cdc sources added to the registry
 * later are picked up at the next start.
 */
export async function startCdc(options: {
  config: CdcConfig;
  kafka: Kafka;
  admin: Admin;
  live: LiveRegistry;
  region: string;
  maxEventTimeSkewMs: number;
}): Promise<CdcRunner> {
  const { config, live, region } = options;
  const writer = await ChangelogWriter.open({
    kafka: options.kafka,
    registry: live,
    region,
    eventTime: { maxSkewMs: options.maxEventTimeSkewMs },
    onError: (message, error) => log("warn", message, { error: errorField(error) }),
  });
  const mapper = await CdcMapper.start({
    kafka: options.kafka,
    admin: options.admin,
    live,
    writer,
    region,
    databases: config.databases,
    ...(config.connectUrl !== undefined ? { connectUrl: config.connectUrl } : {}),
    chunkSize: config.chunkSize,
    observer: {
      connector: (connector, change) => log("info", "cdc connector", { connector, change }),
      deadLettered: (records, topic) => {
        for (const r of records) {
          log("warn", "dead-lettered a change event", {
            topic,
            partition: r.partition,
            offset: r.message.offset,
            code: r.error.code,
            reason: r.error.message,
          });
        }
      },
    },
  });
  log("info", "capturing changes", {
    topics: mapper.topics,
    group: cdcGroupId(live.project, region),
  });
  return {
    stop: async () => {
      await mapper.stop();
      await writer.close();
    },
  };
}

// The offline store writer inside the ingest process (STRATA_OFFLINE=on): the projector, the
// sink connector's registration on a Connect worker (STRATA_CONNECT_URL), and the lag metrics.
import type { Admin, Kafka } from "kafkajs";
import { changelogSources, committedLag } from "../../shared/changelog/index.js";
import type { ChangelogTopicConfig } from "../../shared/changelog/topics.js";
import { errorField, log } from "../../shared/log.js";
import { sinkOffsets, UncommittedAge } from "../../shared/offline/commit-lag.js";
import { ensureConnector } from "../../shared/offline/connect-rest.js";
import {
  aggregationEventsTopic,
  ensureAggregationEventsTopic,
} from "../../shared/aggregations/index.js";
import { aggregationSourceTopics } from "../../shared/offline/event-chunk.js";
import { OfflineProjector, projectorGroupId } from "../../shared/offline/projector.js";
import { icebergSinkConnector } from "../../shared/offline/sink-config.js";
import { ensureOfflineTopics } from "../../shared/offline/topics.js";
import type { LiveRegistry } from "../../shared/registry/index.js";
import type { OfflineConfig } from "./offline-config.js";
import type { OfflineMetrics } from "./offline-metrics.js";

export interface OfflineWriter {
  stop(): Promise<void>;
}

export interface OfflineWriterOptions {
  config: OfflineConfig;
  kafka: Kafka;
  admin: Admin;
  project: string;
  region: string;
  peerRegions: readonly string[];
  topics: ChangelogTopicConfig;
  live: LiveRegistry;
  registryWaitMs: number;
  maxEventTimeSkewMs: number;
  metrics: OfflineMetrics;
  lagPollMs: number;
}

/**
 * Creates the offline topics, registers the sink connector when a Connect worker is given,
 * starts the projector and polls both lags. The projector is a consumer group of its own: a
 * stalled sink or projector never delays the online apply path.
 */
export async function startOfflineWriter(options: OfflineWriterOptions): Promise<OfflineWriter> {
  const { config, admin, project, metrics } = options;
  const created = await ensureOfflineTopics(admin, project, options.topics);
  if (created.length > 0) log("info", "created offline topics", { topics: created });
  if (config.connectUrl !== undefined) {
    const { name, config: connectorConfig } = icebergSinkConnector({
      project,
      catalog: { type: "hadoop", warehouse: config.warehouse! },
      commitIntervalMs: config.commitIntervalMs,
      tasks: config.sinkTasks,
    });
    const change = await ensureConnector(config.connectUrl, name, connectorConfig);
    log("info", "offline sink connector", { connector: name, change, connect: config.connectUrl });
  }
  // The aggregation source topics of the registry at start (what the aggregation consumer
  // reads): a view with a new source topic is projected after the next restart.
  const eventTopics = [...aggregationSourceTopics(options.live.snapshot().registry).keys()];
  if (
    eventTopics.includes(aggregationEventsTopic(project)) &&
    (await ensureAggregationEventsTopic(admin, project, options.topics))
  ) {
    log("info", "created the aggregation events topic", { project });
  }
  const uncommitted = new UncommittedAge();
  const projector = await OfflineProjector.start({
    kafka: options.kafka,
    project,
    region: options.region,
    peerRegions: options.peerRegions,
    live: options.live,
    registryWaitMs: options.registryWaitMs,
    eventTime: { maxSkewMs: options.maxEventTimeSkewMs },
    observer: {
      projected: (byView, produced) => {
        metrics.projectedRecords(byView);
        uncommitted.produced(produced);
      },
      skipped: (source, message, reason, code) => {
        metrics.skippedRecord(source, code);
        log("warn", "offline projector skipped a record", {
          topic: source.topic,
          offset: message.offset,
          code,
          reason,
        });
      },
    },
  });
  const sources = changelogSources(project, options.region, options.peerRegions);
  const groupId = projectorGroupId(project, options.region);
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    const projectorLag = sources.map(async (source) => {
      // The region's own figure includes the aggregation event topics it reads.
      const topics =
        source.region === options.region ? [source.topic, ...eventTopics] : [source.topic];
      const lags = await Promise.all(topics.map((topic) => committedLag(admin, groupId, topic)));
      metrics.projectorLagRecords(
        source.region,
        lags.flatMap((lag) => [...lag.values()]).reduce((a, b) => a + b, 0),
      );
    });
    const commitLag = sinkOffsets(admin, project).then((offsets) => {
      const records = offsets.reduce((sum, p) => sum + Math.max(0, p.end - p.committed), 0);
      metrics.commitLag(records, uncommitted.update(offsets), Date.now());
    });
    Promise.all([...projectorLag, commitLag])
      .catch((error: unknown) =>
        log("warn", "could not read the offline lag", { error: errorField(error) }),
      )
      .finally(() => (polling = false));
  }, options.lagPollMs);
  log("info", "projecting to the offline store", { group: groupId, project, eventTopics });
  return {
    stop: async () => {
      clearInterval(timer);
      await projector.stop();
    },
  };
}

import type { Admin, Kafka } from "kafkajs";
import {
  AggregationConsumer,
  cdcSourceDecoder,
  ensureAggregationEventsTopic,
} from "../../shared/aggregations/index.js";
import type { ChangelogTopicConfig } from "../../shared/changelog/topics.js";
import { errorField, log } from "../../shared/log.js";
import type { RedisClient } from "../../shared/online-store/pipeline.js";
import type { LiveRegistry } from "../../shared/registry/index.js";
import type { AggregationMetrics } from "./aggregation-metrics.js";

export interface AggregationWiring {
  kafka: Kafka;
  admin: Admin;
  redis: RedisClient;
  live: LiveRegistry;
  region: string;
  topics: ChangelogTopicConfig;
  metrics: AggregationMetrics;
  chunkSize: number;
  concurrency: number;
  sessionTimeoutMs: number;
  maxEventTimeSkewMs: number;
}

/**
 * Starts the aggregation consumer when the registry has aggregation views (undefined
 * otherwise), after creating the events topic. Its topics are the registry's at start: a view
 * with a new source topic is read after the next restart.
 */
export async function startAggregations(
  wiring: AggregationWiring,
): Promise<AggregationConsumer | undefined> {
  const registry = wiring.live.registry;
  if (registry.aggregationViews().length === 0) return undefined;
  if (await ensureAggregationEventsTopic(wiring.admin, registry.project, wiring.topics)) {
    log("info", "created the aggregation events topic", { project: registry.project });
  }
  // Debezium creates a table's topic at its first change; the consumer subscribes before that.
  const cdcTopics = cdcSourceDecoder.topics(registry);
  if (cdcTopics.length > 0) {
    await wiring.admin.createTopics({
      topics: cdcTopics.map((topic) => ({ topic })),
      waitForLeaders: true,
    });
  }
  let lastRetryLog = 0;
  const consumer = await AggregationConsumer.start({
    kafka: wiring.kafka,
    redis: wiring.redis,
    registry: () => wiring.live.registry,
    region: wiring.region,
    chunkSize: wiring.chunkSize,
    partitionsConsumedConcurrently: wiring.concurrency,
    sessionTimeoutMs: wiring.sessionTimeoutMs,
    maxEventTimeSkewMs: wiring.maxEventTimeSkewMs,
    observer: {
      applied: (outcome) => {
        wiring.metrics.applied(outcome);
        for (const r of outcome.rejected) {
          log("warn", "dead-lettered an aggregation event", {
            topic: outcome.topic,
            partition: r.partition,
            offset: r.message.offset,
            code: r.error.code,
            reason: r.error.message,
          });
        }
      },
      lag: (topic, partition, records) => wiring.metrics.lag(topic, partition, records),
      retry: (error, attempt) => {
        wiring.metrics.retry();
        if (Date.now() - lastRetryLog > 5_000) {
          lastRetryLog = Date.now();
          log("warn", "aggregation apply failed; retrying, nothing is skipped or committed", {
            attempt,
            error: errorField(error),
          });
        }
      },
    },
  });
  log("info", "consuming aggregation sources", { topics: consumer.topics });
  return consumer;
}

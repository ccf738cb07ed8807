// The regional changelog consumer's entry point: node --max-semi-space-size=64
// dist/functions/ingest/main.js (the serve image, another command; the flag comes from
// ./node-flags.ts), or `npm run ingest` in development, and what `strata ingest` runs
// (runIngest). Configuration: docs/changelog.md.
import { createServer, type Server } from "node:http";
import {
  ChangelogConsumer,
  changelogSources,
  committedLag,
  consumerGroupId,
  createKafka,
  ensureChangelogTopics,
  kafkaConnection,
} from "../../shared/changelog/index.js";
import { isStrataError } from "../../shared/errors.js";
import { errorField, log } from "../../shared/log.js";
import { isMainModule } from "../../shared/main-module.js";
import { OnlineStore } from "../../shared/online-store/index.js";
import {
  LiveRegistry,
  openRegistrySource,
  RegistryObserver,
  registryStatus,
} from "../../shared/registry/index.js";
import { AggregationMetrics } from "./aggregation-metrics.js";
import { startAggregations } from "./aggregations.js";
import { startCdc, type CdcRunner } from "./cdc.js";
import { loadIngestConfig } from "./config.js";
import { IngestMetrics } from "./metrics.js";
import { startOfflineWriter, type OfflineWriter } from "./offline.js";
import { OfflineMetrics } from "./offline-metrics.js";
import { connectIngestRedis } from "./redis-client.js";

/**
 * Starts the regional consumer and its metrics port, and stops them on SIGTERM or SIGINT
 * (then the process exits). Resolves once consuming; throws if it cannot start.
 */
export async function runIngest(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadIngestConfig(env);
  const observer = new RegistryObserver(log);
  // The registry is followed live: chunks take the one served when they start (applier.ts).
  const live = await LiveRegistry.follow(
    openRegistrySource(config.registry, `strata-ingest-${config.region}`),
    {
      project: config.registry.project,
      listeners: [observer],
      onListenerError: (error) =>
        log("error", "a registry listener failed", { error: errorField(error) }),
    },
  );
  observer.observe(live);
  const registry = live.registry;
  const client = connectIngestRedis(config.redis, config.redisTimeoutMs, (error) =>
    log("warn", "redis connection error", { error: error.message }),
  );
  // The consumer only writes: no hot cache, no invalidation subscribers.
  const store = await OnlineStore.open({ client, registry: live, hotCache: false });
  const kafka = createKafka(
    kafkaConnection(config.kafka, `strata-ingest-${config.region}`),
    (level, message, fields) => log(level, message, fields as Record<string, unknown>),
  );
  const admin = kafka.admin();
  await admin.connect();
  const { created, warnings } = await ensureChangelogTopics(admin, registry.project, config.topics);
  for (const warning of warnings) log("warn", warning);
  if (created.length > 0) log("info", "created topics", { topics: created });

  const sources = changelogSources(registry.project, config.region, config.peerRegions);
  const offlineMetrics = config.offline.enabled
    ? new OfflineMetrics(new Set(sources.map((s) => s.region)))
    : undefined;
  const aggregationMetrics = new AggregationMetrics();
  const metrics = new IngestMetrics(
    registry.views().map((v) => v.key),
    sources.map((s) => s.region),
    [
      observer.metrics,
      aggregationMetrics.registry,
      ...(offlineMetrics ? [offlineMetrics.registry] : []),
    ],
  );
  live.subscribe({ swapped: (next) => metrics.knowViews(next.registry.views().map((v) => v.key)) });
  let lastRetryLog = 0;
  const consumer = await ChangelogConsumer.start({
    kafka,
    store,
    region: config.region,
    peerRegions: config.peerRegions,
    chunkSize: config.chunkSize,
    partitionsConsumedConcurrently: config.concurrency,
    sessionTimeoutMs: config.sessionTimeoutMs,
    eventTime: { maxSkewMs: config.maxEventTimeSkewMs },
    registryWaitMs: config.registryWaitMs,
    observer: {
      applied: (outcome, source) => {
        metrics.applied(outcome);
        for (const r of outcome.rejected) {
          log("warn", "dead-lettered a record", {
            topic: source.topic,
            partition: r.partition,
            offset: r.message.offset,
            code: r.error.code,
            reason: r.error.message,
          });
        }
      },
      lag: (partition, lag, source) => metrics.lag(partition, lag, source),
      retry: (what, error, attempt) => {
        metrics.retry(what);
        // One line per few seconds of an outage, not one per retry.
        if (Date.now() - lastRetryLog > 5_000) {
          lastRetryLog = Date.now();
          log("warn", `${what} failed; retrying, nothing is skipped or committed`, {
            attempt,
            error: errorField(error),
          });
        }
      },
    },
  });
  if (consumer.createdTopics.length > 0) {
    log("info", "created replicated topics before replication did", {
      topics: consumer.createdTopics,
    });
  }
  const aggregations = await startAggregations({
    kafka,
    admin,
    redis: client,
    live,
    region: config.region,
    topics: config.topics,
    metrics: aggregationMetrics,
    chunkSize: config.chunkSize,
    concurrency: config.concurrency,
    sessionTimeoutMs: config.sessionTimeoutMs,
    maxEventTimeSkewMs: config.maxEventTimeSkewMs,
  });
  let offline: OfflineWriter | undefined;
  if (offlineMetrics) {
    offline = await startOfflineWriter({
      config: config.offline,
      kafka,
      admin,
      project: registry.project,
      region: config.region,
      peerRegions: config.peerRegions,
      topics: config.topics,
      live,
      registryWaitMs: config.registryWaitMs,
      maxEventTimeSkewMs: config.maxEventTimeSkewMs,
      metrics: offlineMetrics,
      lagPollMs: config.lagPollMs,
    });
  }
  const cdc: CdcRunner | undefined = config.cdc.enabled
    ? await startCdc({
        config: config.cdc,
        kafka,
        admin,
        live,
        region: config.region,
        maxEventTimeSkewMs: config.maxEventTimeSkewMs,
      })
    : undefined;
  const groupId = consumerGroupId(registry.project, config.region);
  log("info", "consuming", {
    topics: sources.map((s) => s.topic),
    group: groupId,
    region: config.region,
    registry: registryStatus(live.snapshot()),
  });
  // Each source topic's committed offsets: a peer whose copy is idle or stalled reads right too.
  const lagTimer = setInterval(() => {
    for (const source of sources) {
      committedLag(admin, groupId, source.topic).then(
        (lag) =>
          lag.forEach((records, partition) =>
            metrics.committedLag(source.region, partition, records),
          ),
        (error: unknown) =>
          log("warn", "could not read consumer lag", {
            topic: source.topic,
            error: errorField(error),
          }),
      );
    }
  }, config.lagPollMs);

  const server = await startMetricsServer(
    config.metricsHost,
    config.metricsPort,
    metrics,
    () => client.ping().then((reply) => reply === "PONG"),
    live,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("info", "shutting down: finishing the chunk in progress and committing it", { signal });
    clearInterval(lagTimer);
    Promise.all([consumer.stop(), aggregations?.stop(), offline?.stop(), cdc?.stop()])
      .then(async () => {
        server.close();
        await admin.disconnect();
        await store.close();
        await live.stop();
        await client.quit().catch(() => client.disconnect());
        log("info", "stopped");
        process.exit(0);
      })
      .catch((error: unknown) => {
        log("error", "shutdown failed", { error: errorField(error) });
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

function startMetricsServer(
  host: string,
  port: number,
  metrics: IngestMetrics,
  redisReady: () => Promise<boolean>,
  live: LiveRegistry,
): Promise<Server> {
  const server = createServer((request, response) => {
    const answer = (status: number, type: string, body: string) => {
      response.writeHead(status, { "content-type": type });
      response.end(body);
    };
    if (request.url === "/metrics") {
      metrics.render().then(
        ({ contentType, body }) => answer(200, contentType, body),
        () => answer(500, "text/plain", "metrics failed\n"),
      );
    } else if (request.url === "/health") {
      answer(200, "application/json", '{"status":"ok"}');
    } else if (request.url === "/ready") {
      void redisReady()
        .catch(() => false)
        .then((ok) => {
          const registry = registryStatus(live.snapshot());
          if (ok) answer(200, "application/json", JSON.stringify({ status: "ready", registry }));
          else {
            const body = { status: "not ready", reason: "redis unreachable", registry };
            answer(503, "application/json", JSON.stringify(body));
          }
        });
    } else {
      answer(404, "application/json", '{"status":"not found"}');
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      log("info", "metrics listening", { address: server.address() });
      resolve(server);
    });
  });
}

if (isMainModule(import.meta.url)) {
  runIngest().catch((error: unknown) => {
    log(
      "error",
      "could not start",
      isStrataError(error)
        ? { code: error.code, error: error.message }
        : { error: errorField(error) },
    );
    process.exit(1);
  });
}

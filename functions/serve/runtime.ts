import { createServiceReadiness } from "./service-readiness.js";
import { ChangelogWriter } from "../../shared/changelog/changelog-writer.js";
import { createKafka, kafkaConnection } from "../../shared/changelog/kafka-client.js";
import { ensureChangelogTopics } from "../../shared/changelog/topics.js";
import { connectFailFast, OnlineStore } from "../../shared/online-store/index.js";
import { log } from "../../shared/log.js";
import {
  LiveRegistry,
  openRegistrySource,
  RegistryObserver,
  type FeatureRegistry,
} from "../../shared/registry/index.js";
import type { PeerRegion } from "../../shared/regions/index.js";
import { HybridLogicalClock } from "../../shared/versions/hlc.js";
import { ApiKeyVerifier } from "./auth.js";
import {
  DEFAULT_CACHE_MAX_BYTES,
  DEFAULT_DEGRADED_MAX_STALENESS_MS,
  type ServeChangelogConfig,
  type ServeConfig,
} from "./config.js";
import {
  createServeHandler,
  type CoreRequest,
  type CoreResponse,
  type ServeDeps,
} from "./handler.js";
import { ServeMetrics } from "./metrics.js";
import { startDriftRecording, type DriftRecording } from "./drift-recording.js";
import { LazyEventSink } from "./lazy-event-sink.js";

export interface ServeRuntime {
  /** The feature API (/get-online-features, /push): the public port and the function adapters. */
  handle: (request: CoreRequest) => Promise<CoreResponse>;
  /** /health, /ready and /metrics: the admin port only. */
  handleAdmin: (request: CoreRequest) => Promise<CoreResponse>;
  store: OnlineStore;
  /** The registry served, swapped live when it follows a published one. */
  live: LiveRegistry;
  /** The registry served now. */
  readonly registry: FeatureRegistry;
  /** Marks the runtime as stopping: feature requests get 503 from now on. */
  beginShutdown: () => void;
  close: () => Promise<void>;
}

/**
 * Everything one serving process needs, shared by the HTTP server and the function adapters.
 * The registry is `registry` when given (a fixed one, or a live one the caller owns), else the
 * one config.registry names, followed live and stopped by close().
 */
export async function createServeRuntime(
  config: ServeConfig,
  logError: (message: string, error: unknown) => void,
  registry?: FeatureRegistry | LiveRegistry,
): Promise<ServeRuntime> {
  const observer = new RegistryObserver((level, message, fields) => log(level, message, fields));
  const live = await openLiveRegistry(config, registry, observer, logError);
  observer.observe(live);
  // What close() does to the registry: stop following it, or, when the caller owns it, stop
  // observing it.
  const unsubscribe = live === registry ? live.subscribe(observer) : undefined;
  const release = () => (unsubscribe ? Promise.resolve(void unsubscribe()) : live.stop());
  try {
    return await startRuntime(config, logError, live, observer, release);
  } catch (error) {
    await release().catch(() => undefined);
    throw error;
  }
}

async function openLiveRegistry(
  config: ServeConfig,
  registry: FeatureRegistry | LiveRegistry | undefined,
  observer: RegistryObserver,
  logError: (message: string, error: unknown) => void,
): Promise<LiveRegistry> {
  if (registry instanceof LiveRegistry) return registry;
  if (registry) return LiveRegistry.fixed(registry, { listeners: [observer] });
  const source = openRegistrySource(
    config.registry,
    `strata-serve-${config.changelog?.region ?? "registry"}`,
  );
  return LiveRegistry.follow(source, {
    project: config.registry.project,
    listeners: [observer],
    onListenerError: (error) => logError("a registry listener failed", error),
  });
}

async function startRuntime(
  config: ServeConfig,
  logError: (message: string, error: unknown) => void,
  live: LiveRegistry,
  observer: RegistryObserver,
  releaseRegistry: () => Promise<void>,
): Promise<ServeRuntime> {
  const client = connectFailFast(config.redis, {
    // The request timeout: a read waits on nothing but Redis.
    commandTimeoutMs: config.limits.requestTimeoutMs,
    onConnectionError: (error) => logError("redis connection error", error),
  });
  let store: OnlineStore;
  try {
    store = await OnlineStore.open({
      client,
      registry: live,
      hotCache:
        config.cacheEntries > 0
          ? {
              maxEntries: config.cacheEntries,
              maxBytes: config.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES,
            }
          : { entities: false },
      degradedMaxStalenessMs: config.degradedMaxStalenessMs ?? DEFAULT_DEGRADED_MAX_STALENESS_MS,
    });
  } catch (error) {
    client.disconnect();
    throw error;
  }
  let writer: ChangelogWriter | undefined;
  let events: LazyEventSink | undefined;
  let peers: PeerRegion[] = [];
  if (config.changelog) {
    try {
      peers = connectPeers(config.changelog, config.limits.requestTimeoutMs, logError);
      writer = await openChangelogWriter(config.changelog, store, peers, logError);
      events = new LazyEventSink(config.changelog, store.project, logError);
    } catch (error) {
      for (const peer of peers) peer.client.disconnect();
      await store.close();
      client.disconnect();
      throw error;
    }
  }
  let drift: DriftRecording | undefined;
  if (config.drift) {
    // Reads baselines from the serving Redis once before serving; never fails start-up.
    drift = await startDriftRecording(config.drift, live.registry.project, client, log);
  }
  const hlc = new HybridLogicalClock();
  let shuttingDown = false;
  const metrics = new ServeMetrics(
    () => store.stats(),
    writer && (() => writer.stats()),
    drift ? [observer.metrics, drift.recorder.registry] : [observer.metrics],
  );
  const readiness = createServiceReadiness(
    client,
    store,
    config.changelog,
    config.readyMaxLagRecords ?? 1_000,
  );
  const deps: ServeDeps = {
    store,
    registry: live,
    verifier: config.apiKeys ? new ApiKeyVerifier(config.apiKeys) : null,
    limits: config.limits,
    metrics,
    isReady: async () => (await client.ping()) === "PONG",
    isShuttingDown: () => shuttingDown,
    push: writer && { writer, region: config.changelog!.region, hlc: () => hlc.now(), events },
    drift: drift?.recorder,
    logError,
    serviceReadiness: readiness.check,
  };
  return {
    handle: createServeHandler(deps, "feature"),
    handleAdmin: createServeHandler(deps, "admin"),
    store,
    live,
    get registry() {
      return live.registry;
    },
    beginShutdown: () => {
      shuttingDown = true;
    },
    close: async () => {
      shuttingDown = true;
      drift?.stop();
      const unsent = await writer?.close(config.shutdownGraceMs);
      await events
        ?.close()
        .catch((error: unknown) => logError("closing the events producer failed", error));
      if (unsent) {
        logError(`${unsent} queued writes were not acknowledged by Kafka before shutdown`, null);
      }
      await readiness.close().catch(() => undefined);
      await store.close();
      await releaseRegistry().catch((error: unknown) =>
        logError("stopping the registry source failed", error),
      );
      for (const peer of peers) peer.client.disconnect();
      // QUIT lets Redis finish our commands; a client that is not connected has none to
      // finish, and its QUIT would wait for a reconnect that may never come.
      if (client.status === "ready") await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}

/**
 * Clients of the peer regions' Redis, for pushes that wait until replicated. They connect in
 * the background and fail fast: a peer that is down or not connected yet counts as "not
 * applied" until a push's deadline, and never holds up start-up or a push beyond it.
 */
function connectPeers(
  config: ServeChangelogConfig,
  commandTimeoutMs: number,
  logError: (message: string, error: unknown) => void,
): PeerRegion[] {
  return (config.peers ?? []).map((peer) => ({
    name: peer.name,
    client: connectFailFast(peer.address, {
      commandTimeoutMs,
      socketTimeoutMs: commandTimeoutMs,
      onConnectionError: (error) =>
        logError(`peer region ${peer.name}: redis connection error`, error),
    }),
  }));
}

/** Creates the changelog topics if needed and connects the writer of POST /push. */
async function openChangelogWriter(
  config: ServeChangelogConfig,
  store: OnlineStore,
  peers: readonly PeerRegion[],
  logError: (message: string, error: unknown) => void,
): Promise<ChangelogWriter> {
  const kafka = createKafka(
    kafkaConnection(config.kafka, `strata-serve-${config.region}`),
    (_level, message, fields) => logError(message, fields),
  );
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { warnings } = await ensureChangelogTopics(admin, store.project, config.topics);
    for (const warning of warnings) logError(warning, null);
  } finally {
    await admin.disconnect();
  }
  return ChangelogWriter.open({
    kafka,
    registry: store.live,
    store,
    queue: {
      maxRecords: config.queueMaxRecords,
      batchSize: config.batchSize,
      lingerMs: config.lingerMs,
    },
    ackTimeoutMs: config.ackTimeoutMs,
    eventTime: { maxSkewMs: config.maxEventTimeSkewMs },
    region: config.region,
    peers,
    // A push may shorten its deadline, never lengthen it: the server bounds how long a
    // request may hold a connection.
    replicationTimeoutMs: config.replicationTimeoutMs,
    maxReplicationTimeoutMs: config.replicationTimeoutMs,
    onError: logError,
  });
}

import { pathToFileURL } from "node:url";
import path from "node:path";
import { Cluster, Redis } from "ioredis";
import { StrataError } from "../../shared/errors.js";
import { OnlineStore, type RedisClient } from "../../shared/online-store/index.js";
import { FeatureRegistry, type FeatureRepoDefinition } from "../../shared/registry/index.js";
import { ApiKeyVerifier } from "./auth.js";
import type { ServeConfig } from "./config.js";
import { createServeHandler, type CoreRequest, type CoreResponse } from "./handler.js";
import { ServeMetrics } from "./metrics.js";

export interface ServeRuntime {
  handle: (request: CoreRequest) => Promise<CoreResponse>;
  store: OnlineStore;
  registry: FeatureRegistry;
  /** Marks the runtime as stopping: feature requests get 503 from now on. */
  beginShutdown: () => void;
  close: () => Promise<void>;
}

/** Loads a feature repo module (its default export, or an export named `repo`). */
export async function loadRegistry(repoPath: string): Promise<FeatureRegistry> {
  let module: { default?: FeatureRepoDefinition; repo?: FeatureRepoDefinition };
  try {
    module = (await import(pathToFileURL(path.resolve(repoPath)).href)) as typeof module;
  } catch (error) {
    throw new StrataError(
      "STRATA_E_BAD_CONFIG",
      `STRATA_REPO ${repoPath} could not be loaded: ${(error as Error).message}`,
      {
        variable: "STRATA_REPO",
      },
    );
  }
  const definition = module.default ?? module.repo;
  if (!definition) {
    throw new StrataError(
      "STRATA_E_BAD_CONFIG",
      `STRATA_REPO ${repoPath} exports no feature repo (default export or "repo")`,
      {
        variable: "STRATA_REPO",
      },
    );
  }
  return new FeatureRegistry(definition);
}

/**
 * Redis clients for serving fail fast: no offline queue and one retry, so a read during an
 * outage answers 503 (or from the hot cache's last contents) at once instead of queueing.
 */
export function connectServingRedis(
  redis: ServeConfig["redis"],
  commandTimeoutMs: number,
): RedisClient {
  const options = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    // The request timeout: a read waits on nothing but Redis.
    commandTimeout: commandTimeoutMs,
  };
  return "url" in redis
    ? new Redis(redis.url, options)
    : new Cluster(redis.clusterNodes, { enableOfflineQueue: false, redisOptions: options });
}

/** Everything one serving process needs, shared by the HTTP server and the function adapters. */
export async function createServeRuntime(
  config: ServeConfig,
  logError: (message: string, error: unknown) => void,
  registry?: FeatureRegistry,
): Promise<ServeRuntime> {
  const resolvedRegistry = registry ?? (await loadRegistry(config.repoPath));
  const client = connectServingRedis(config.redis, config.limits.requestTimeoutMs);
  // Connection errors are expected during an outage; ioredis reconnects by itself. Log the
  // first of a run, not every retry.
  let lastError = "";
  client.on("error", (error: Error) => {
    if (error.message !== lastError) logError("redis connection error", error);
    lastError = error.message;
  });
  client.on("ready", () => (lastError = ""));
  let store: OnlineStore;
  try {
    store = await OnlineStore.open({
      client,
      registry: resolvedRegistry,
      hotCache: config.cacheEntries > 0 ? { maxEntries: config.cacheEntries } : { entities: false },
    });
  } catch (error) {
    client.disconnect();
    throw error;
  }
  let shuttingDown = false;
  const metrics = new ServeMetrics(() => store.stats());
  const handle = createServeHandler({
    store,
    registry: resolvedRegistry,
    verifier: config.apiKeys ? new ApiKeyVerifier(config.apiKeys) : null,
    limits: config.limits,
    metrics,
    isReady: async () => (await client.ping()) === "PONG",
    isShuttingDown: () => shuttingDown,
    logError,
  });
  return {
    handle,
    store,
    registry: resolvedRegistry,
    beginShutdown: () => {
      shuttingDown = true;
    },
    close: async () => {
      shuttingDown = true;
      await store.close();
      // QUIT lets Redis finish our commands; a client that is not connected has none to
      // finish, and its QUIT would wait for a reconnect that may never come.
      if (client.status === "ready") await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}

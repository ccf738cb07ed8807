import { Cluster, Redis } from "ioredis";
import type { RedisAddress } from "../config/env.js";
import type { RedisClient } from "./pipeline.js";

/**
 * A Redis client that fails fast: no offline queue and one retry, so that during an outage
 * a read answers 503 (or from the hot cache) at once, and the changelog consumer backs off
 * and retries its batch, instead of commands piling up in memory.
 */
export function connectFailFast(
  address: RedisAddress,
  options: { commandTimeoutMs?: number } = {},
): RedisClient {
  const redisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: options.commandTimeoutMs,
  };
  return "url" in address
    ? new Redis(address.url, redisOptions)
    : new Cluster(address.clusterNodes, { enableOfflineQueue: false, redisOptions });
}

import { readFileSync } from "node:fs";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { RedisAddress } from "../config/env.js";
import type { RedisClient } from "./pipeline.js";

/**
 * A Redis client that fails fast: no offline queue and one retry, so that during an outage
 * a read answers 503 (or from the hot cache) at once, and the changelog consumer backs off
 * and retries its batch, instead of commands piling up in memory.
 */
export function connectFailFast(
  address: RedisAddress,
  options: {
    commandTimeoutMs?: number;
    /**
     * A connection that has commands waiting and receives nothing for this long is destroyed
     * and reconnected. A half-open connection (a peer gone without a FIN) otherwise keeps
     * every later command waiting on it: a command timeout fails them, but reuses the socket.
     */
    socketTimeoutMs?: number;
    /**
     * Connection errors are expected during an outage, and ioredis reconnects by itself: this
     * hears the first error of a run, not every retry.
     */
    onConnectionError?: (error: Error) => void;
  } = {},
): RedisClient {
  const client = createClient(address, options.commandTimeoutMs, options.socketTimeoutMs);
  const report = options.onConnectionError;
  if (report) {
    let lastError = "";
    client.on("error", (error: Error) => {
      if (error.message !== lastError) report(error);
      lastError = error.message;
    });
    client.on("ready", () => (lastError = ""));
  }
  return client;
}

function createClient(
  address: RedisAddress,
  commandTimeoutMs: number | undefined,
  socketTimeoutMs: number | undefined,
): RedisClient {
  const redisOptions: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: commandTimeoutMs,
    socketTimeout: socketTimeoutMs,
    username: address.username,
    password: address.password,
    tls: address.tls && {
      ...(address.tls.caFile && { ca: readFileSync(address.tls.caFile) }),
    },
  };
  if ("url" in address) return new Redis(address.url, redisOptions);
  return new Cluster(address.clusterNodes, {
    enableOfflineQueue: false,
    redisOptions,
    // Managed TLS clusters (ElastiCache) announce names their certificates cover: connect by
    // name, not by the address DNS gives, or certificate checks fail.
    ...(address.tls && {
      dnsLookup: (host: string, callback: (e: null, a: string) => void) => callback(null, host),
    }),
  });
}

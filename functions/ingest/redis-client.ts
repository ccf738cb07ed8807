import type { RedisAddress } from "../../shared/config/env.js";
import { connectFailFast, type RedisClient } from "../../shared/online-store/index.js";

/**
 * The consumer's Redis client. Every command has a deadline, `timeoutMs`: a command that gets
 * no answer by then fails its chunk, which the applier retries with backoff, and a connection
 * that received nothing for as long while commands wait on it is dropped and reopened. Without
 * both, a half-open connection (a Redis host gone without closing its sockets) held a chunk,
 * and its partition, until the group rebalanced.
 */
export function connectIngestRedis(
  address: RedisAddress,
  timeoutMs: number,
  onConnectionError?: (error: Error) => void,
): RedisClient {
  return connectFailFast(address, {
    commandTimeoutMs: timeoutMs,
    socketTimeoutMs: timeoutMs,
    onConnectionError,
  });
}

// Clients for the real servers of the local stack (or those named by REDIS_URL,
// REDIS_CLUSTER_NODES and KAFKA_BROKERS). Integration tests use only these: no mocks.
import { Cluster, Redis } from "ioredis";
import { Kafka, logLevel } from "kafkajs";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";

export type Topology = "standalone" | "cluster";
export const TOPOLOGIES: Topology[] = ["standalone", "cluster"];

/** A client of either topology; ioredis' Redis and Cluster share the command API. */
export type RedisClient = Redis | Cluster;

export function connectRedis(topology: Topology): RedisClient {
  const endpoints = resolveEndpoints();
  if (topology === "standalone") {
    return new Redis(endpoints.redis.address, { maxRetriesPerRequest: 2 });
  }
  return new Cluster(endpoints.cluster.address, { redisOptions: { maxRetriesPerRequest: 2 } });
}

export function kafkaClient(clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: resolveEndpoints().kafka.address,
    logLevel: logLevel.WARN,
  });
}

/** A name no other test run uses, so tests never see each other's topics or keys. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

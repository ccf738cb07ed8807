import { resolveEndpoints } from "./endpoints.js";
import { ensureRedis } from "./prerequisites.js";
import { KafkaBroker } from "./services/kafka.js";
import { RedisCluster } from "./services/redis-cluster.js";
import { RedisStandalone } from "./services/redis-standalone.js";
import type { ServiceStatus, StackService, UpOutcome } from "./services/service.js";

const services: StackService[] = [new RedisStandalone(), new RedisCluster(), new KafkaBroker()];

export interface UpReport {
  outcomes: Record<string, UpOutcome>;
  seconds: number;
}

/**
 * Brings every service up, in parallel (Kafka's JVM start dominates). Idempotent: a
 * service that already runs is reused, one given by the environment is left alone.
 */
export async function stackUp(log: (line: string) => void = console.log): Promise<UpReport> {
  const started = performance.now();
  const endpoints = resolveEndpoints();
  if (!endpoints.redis.external || !endpoints.cluster.external) await ensureRedis(log);
  const outcomes: Record<string, UpOutcome> = {};
  await Promise.all(
    services.map(async (service) => {
      const t0 = performance.now();
      outcomes[service.name] = await service.up(log);
      const took = ((performance.now() - t0) / 1000).toFixed(1);
      log(`${service.name.padEnd(10)} ${outcomes[service.name]} (${took}s)`);
    }),
  );
  return { outcomes, seconds: (performance.now() - started) / 1000 };
}

/** Stops only what the stack started (by recorded pid), in reverse order. */
export async function stackDown(log: (line: string) => void = console.log): Promise<void> {
  for (const service of [...services].reverse()) {
    const stopped = await service.down();
    log(`${service.name.padEnd(10)} ${stopped ? "stopped" : "was not running"}`);
  }
}

export function stackStatus(): ServiceStatus[] {
  return services.map((service) => service.status());
}

export function formatStatus(rows: ServiceStatus[]): string {
  return rows
    .map((row) => {
      const detail =
        row.state === "external"
          ? `from ${row.source}`
          : row.pids.length > 0
            ? `pid ${row.pids.join(",")}`
            : "";
      return `${row.name.padEnd(10)} ${row.state.padEnd(9)} ${row.address}  ${detail}`.trimEnd();
    })
    .join("\n");
}

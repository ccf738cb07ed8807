// Online stores over the real servers, one test repo per test file (its own project,
// so its keys never meet another file's).
import type { FeatureRegistry, LiveRegistry } from "../../shared/registry/index.js";
import { type FeatureRepoDefinition } from "../../shared/registry/index.js";
import { OnlineStore, type OnlineStoreOptions } from "../../shared/online-store/index.js";
import { connectRedis, type RedisClient, type Topology } from "./servers.js";

export function testRepo(project: string): FeatureRepoDefinition {
  return {
    project,
    entities: [
      { name: "driver", joinKeys: { driver_id: "int64" } },
      { name: "rider", joinKeys: { rider_id: "string", city: "string" } },
    ],
    views: [
      {
        name: "stats",
        version: "1.0.0",
        entities: ["driver"],
        features: { rate: "float64", trips: "int64", label: "string" },
        maxAgeMs: 60_000,
      },
      {
        name: "stats",
        version: "2.1.0",
        entities: ["driver"],
        features: { rate: "float64", trips: "int64", label: "string", tags: "string[]" },
        maxAgeMs: 60_000,
      },
      {
        name: "rider_profile",
        version: "1.0.0",
        entities: ["rider"],
        features: { score: "float32", vip: "bool", blob: "bytes" },
        maxAgeMs: 86_400_000,
        criticality: "critical",
      },
    ],
    services: [{ name: "model_a", features: ["stats@1:rate", "stats@1:trips"] }],
    pushSources: [{ name: "driver_stats_push", views: ["stats@1", "stats@2"] }],
  };
}

/** A project name unique to this run: letters, digits and _ only (it is an identifier). */
export function uniqueProject(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;
}

export interface OpenedStore {
  store: OnlineStore;
  client: RedisClient;
  close: () => Promise<void>;
}

export async function openStore(
  topology: Topology,
  registry: FeatureRegistry | LiveRegistry,
  options: Partial<Omit<OnlineStoreOptions, "client" | "registry">> = {},
): Promise<OpenedStore> {
  const client = connectRedis(topology);
  const store = await OnlineStore.open({ client, registry, ...options });
  return {
    store,
    client,
    close: async () => {
      await store.close();
      client.disconnect();
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls until `check` holds, `pollMs` apart (back to back when 0); returns the milliseconds it
 * took. Fails after `timeoutMs`.
 */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  pollMs = 0,
): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs)
      throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) =>
      pollMs > 0 ? setTimeout(resolve, pollMs) : setImmediate(resolve),
    );
  }
  return performance.now() - started;
}

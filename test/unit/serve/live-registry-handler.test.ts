import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_LIMITS } from "../../../functions/serve/config.js";
import { createServeHandler, type ServeDeps } from "../../../functions/serve/handler.js";
import { ServeMetrics } from "../../../functions/serve/metrics.js";
import type { OnlineStore, ReadResult } from "../../../shared/online-store/index.js";
import {
  LiveRegistry,
  type FeatureRegistry,
  type FeatureRepoDefinition,
  type ResolvedFeatureRef,
} from "../../../shared/registry/index.js";
import { ControlledRegistrySource } from "../../support/controlled-registry-source.js";

function definition(service: string[], features: string[]): FeatureRepoDefinition {
  return {
    project: "p",
    entities: [{ name: "driver", joinKeys: { driver_id: "int64" } }],
    views: [
      {
        name: "stats",
        version: `1.${features.length}.0`,
        entities: ["driver"],
        features: Object.fromEntries(features.map((f) => [f, "float64"])),
        maxAgeMs: 60_000,
      },
    ],
    services: [{ name: "live", features: service }],
  };
}

/** A store whose reads wait until released, and that records the registry each read was given. */
function gatedStore() {
  const reads: { registry: FeatureRegistry | undefined; release: () => void }[] = [];
  const store = {
    read: async (
      rows: readonly Record<string, unknown>[],
      refs: readonly ResolvedFeatureRef[],
      registry?: FeatureRegistry,
    ): Promise<ReadResult> => {
      await new Promise<void>((release) => reads.push({ registry, release }));
      return {
        features: refs,
        rows: rows.map(() => ({
          values: refs.map(() => 1.5),
          statuses: refs.map(() => "PRESENT" as const),
          eventTimestamps: refs.map(() => 0),
          jsonTexts: refs.map(() => undefined),
        })),
      };
    },
    stats: () => ({ cache: undefined }),
  } as unknown as OnlineStore;
  return { store, reads };
}

describe("a request in flight while the registry is swapped", () => {
  it("finishes on the registry it started with; the next request takes the new one", async () => {
    const source = new ControlledRegistrySource(definition(["stats:rate"], ["rate"]));
    const live = await LiveRegistry.follow(source);
    const { store, reads } = gatedStore();
    const deps: ServeDeps = {
      store,
      registry: live,
      verifier: null,
      limits: DEFAULT_LIMITS,
      metrics: new ServeMetrics(() => store.stats()),
      isReady: () => Promise.resolve(true),
      isShuttingDown: () => false,
      logError: () => undefined,
    };
    const handle = createServeHandler(deps);
    const ask = () =>
      handle({
        method: "POST",
        path: "/get-online-features",
        headers: { "content-type": "application/json" },
        body: '{"feature_service": "live", "entities": {"driver_id": [1]}}',
      });
    const first = live.snapshot().registry;
    const inFlight = ask();
    while (reads.length === 0) await new Promise((resolve) => setImmediate(resolve));
    source.publish(definition(["stats:rate", "stats:surge"], ["rate", "surge"]));
    reads[0]!.release();
    const answered = await inFlight;
    assert.equal(answered.status, 200, answered.body);
    assert.equal(reads[0]!.registry, first, "the read used the request's snapshot");
    assert.deepEqual(
      (JSON.parse(answered.body) as { metadata: { feature_names: string[] } }).metadata
        .feature_names,
      ["driver_id", "rate"],
    );

    const next = ask();
    while (reads.length === 1) await new Promise((resolve) => setImmediate(resolve));
    reads[1]!.release();
    const later = await next;
    assert.equal(reads[1]!.registry, live.registry);
    assert.deepEqual(
      (JSON.parse(later.body) as { metadata: { feature_names: string[] } }).metadata.feature_names,
      ["driver_id", "rate", "surge"],
    );
    const ready = await createServeHandler(
      deps,
      "admin",
    )({
      method: "GET",
      path: "/ready",
      headers: {},
      body: undefined,
    });
    assert.deepEqual(JSON.parse(ready.body), {
      status: "ready",
      registry: { version: 2, hash: live.snapshot().hash, origin: "test:2" },
    });
  });
});

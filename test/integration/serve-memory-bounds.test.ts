// A read key must not be able to grow a serving process's memory: every cache that request
// input reaches is bounded in bytes. Each test sends a loop of requests whose input is new and
// large each time, through the serving core of a real server over the real Redis, and checks
// that the heap after a full collection stays where it was.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import type { CoreRequest } from "../../functions/serve/handler.js";
import { FeatureRegistry, type FeatureRepoDefinition } from "../../shared/registry/index.js";
import { seededRandom } from "../support/seeded-random.js";
import { startTestServer, type TestServer } from "../support/serve.js";
import { uniqueProject } from "../support/store.js";

v8.setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const VIEWS = 25;
const FEATURES_PER_VIEW = 20;
/** Growth that "flat" allows: warm-up leftovers and noise, far below what the loops would pin. */
const FLAT_BYTES = 8 * 1024 * 1024;

function hostileRepo(project: string): FeatureRepoDefinition {
  const features = Object.fromEntries(
    Array.from({ length: FEATURES_PER_VIEW }, (_, f) => [`f${f}`, "float64" as const]),
  );
  return {
    project,
    entities: [
      { name: "item", joinKeys: { item_id: "int64" } },
      { name: "user", joinKeys: { user_id: "string" } },
    ],
    views: [
      ...Array.from({ length: VIEWS }, (_, v) => ({
        name: `wide_${v}`,
        version: "1.0.0",
        entities: ["item"],
        features,
        maxAgeMs: 60_000,
      })),
      {
        name: "profile",
        version: "1.0.0",
        entities: ["user"],
        features: { score: "float64" as const },
        maxAgeMs: 60_000,
      },
    ],
  };
}

describe("request input cannot grow a serving process's heap", () => {
  const registry = new FeatureRegistry(hostileRepo(uniqueProject("hostile")));
  const random = seededRandom(23);
  let server: TestServer;

  before(async () => {
    // A small hot cache budget, so that a bound that holds shows as a flat heap.
    server = await startTestServer(registry, { cacheMaxBytes: 2 * 1024 * 1024 });
  });
  after(async () => {
    await server.close();
  });

  /** The heap's growth over `count` requests, after `warmUp` of the same kind. */
  async function heapGrowth(request: (i: number) => unknown, count: number): Promise<number> {
    const send = async (i: number) => {
      const response = await server.runtime.handle(coreRequest(request(i)));
      assert.equal(response.status, 200, response.body.slice(0, 300));
    };
    for (let i = 0; i < 20; i++) await send(i);
    const before = settledHeap();
    for (let i = 20; i < count + 20; i++) await send(i);
    return settledHeap() - before;
  }

  function coreRequest(body: unknown): CoreRequest {
    return {
      method: "POST",
      path: "/get-online-features",
      headers: { authorization: `Bearer ${server.key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    };
  }

  /** Feature references in a new order: a feature list no earlier request sent. */
  function shuffledRefs(count: number): string[] {
    const refs = Array.from(
      { length: count },
      (_, i) => `wide_${Math.floor(i / FEATURES_PER_VIEW)}:f${i % FEATURES_PER_VIEW}`,
    );
    for (let i = refs.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [refs[i], refs[j]] = [refs[j]!, refs[i]!];
    }
    return refs;
  }

  it("a new ~256 KB extra entity column name in every request", async () => {
    const longName = "c".repeat(256 * 1024);
    const growth = await heapGrowth(
      (i) => ({
        features: shuffledRefs(FEATURES_PER_VIEW),
        entities: { item_id: [1], [`${i}_${longName}`]: [1] },
      }),
      200,
    );
    assert.ok(growth < FLAT_BYTES, `the heap grew by ${mib(growth)} over 200 requests`);
  });

  it("a new order of 500 features in every request", async () => {
    const growth = await heapGrowth(
      () => ({
        features: shuffledRefs(VIEWS * FEATURES_PER_VIEW),
        entities: { item_id: [1] },
        full_feature_names: true,
      }),
      2_000,
    );
    assert.ok(growth < FLAT_BYTES, `the heap grew by ${mib(growth)} over 2,000 requests`);
  });

  it("a new ~64 KB string entity key in every request", async () => {
    const longKey = "k".repeat(64 * 1024);
    const growth = await heapGrowth(
      (i) => ({ features: ["profile:score"], entities: { user_id: [`${i}_${longKey}`] } }),
      400,
    );
    assert.ok(growth < FLAT_BYTES, `the heap grew by ${mib(growth)} over 400 requests`);
  });
});

function settledHeap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { generateApiKey } from "../../functions/serve/auth.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { changelogFixture, TEST_TOPICS, type ChangelogFixture } from "../support/changelog.js";
import { post, startTestServer, type TestServer } from "../support/serve.js";
import { openStore, testRepo, uniqueProject, type OpenedStore } from "../support/store.js";

const REGION = "test-push";

describe("POST /push through the changelog, read back through /get-online-features", () => {
  const registry = new FeatureRegistry(testRepo(uniqueProject("push")));
  const pusher = generateApiKey("pusher", { push: true });
  let changelog: ChangelogFixture;
  let server: TestServer;
  let consumerStore: OpenedStore;

  before(async () => {
    changelog = await changelogFixture(registry);
    server = await startTestServer(registry, {
      extraKeys: [pusher.record],
      changelog: {
        kafka: { brokers: resolveEndpoints().kafka.address },
        region: REGION,
        topics: TEST_TOPICS,
        queueMaxRecords: 10_000,
        batchSize: 500,
        lingerMs: 5,
        ackTimeoutMs: 10_000,
      },
    });
    consumerStore = await openStore("standalone", registry, { hotCache: false });
    await changelog.startConsumer(consumerStore.store, REGION);
  });
  after(async () => {
    await server.close();
    await changelog.cleanup();
    await consumerStore.close();
  });

  const push = (body: unknown, key = pusher.key) => post(server.url, body, { key, path: "/push" });
  const read = (features: string[], entities: Record<string, unknown[]>) =>
    post(server.url, { features, entities }, { key: server.key });

  it("makes a critical push with wait: applied readable as soon as it returns", async () => {
    for (let round = 0; round < 5; round++) {
      const score = round + 0.5;
      const pushed = await push({
        push_source_name: "rider_profile",
        df: {
          rider_id: ["r1"],
          city: ["paris"],
          score: [score],
          vip: [round % 2 === 0],
          blob: ["aGk="],
          event_timestamp: [new Date().toISOString()],
        },
        to: "online",
        wait: "applied",
      });
      assert.equal(pushed.status, 200, pushed.text);
      assert.equal(pushed.json.reached, "applied");
      const got = await read(["rider_profile:score", "rider_profile:blob"], {
        rider_id: ["r1"],
        city: ["paris"],
      });
      const results = got.json.results as { values: unknown[]; statuses: string[] }[];
      // Join keys first (rider_id, city), then the features.
      assert.deepEqual(results[2]!.values, [score]);
      assert.deepEqual(results[3]!.values, ["aGk="]);
    }
  });

  it("makes a standard push visible once the consumer applied it, and measures how long that took", async () => {
    const drivers = Array.from({ length: 50 }, (_, i) => 1_000 + i);
    const started = performance.now();
    const pushed = await push({
      push_source_name: "driver_stats_push",
      df: {
        driver_id: drivers,
        rate: drivers.map((d) => d / 10_000),
        trips: drivers,
        label: drivers.map((d) => `d${d}`),
        tags: drivers.map(() => ["a"]),
        event_timestamp: drivers.map(() => Date.now()),
      },
    });
    assert.equal(pushed.status, 200, pushed.text);
    assert.equal(pushed.json.reached, "enqueued");
    let visibleAfterMs = -1;
    while (performance.now() - started < 15_000) {
      const got = await read(["stats@1:rate", "stats@2:tags"], { driver_id: drivers });
      const statuses = (got.json.results as { statuses: string[] }[])
        .slice(1)
        .flatMap((r) => r.statuses);
      if (statuses.every((s) => s === "PRESENT")) {
        visibleAfterMs = performance.now() - started;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(visibleAfterMs >= 0, "the standard push became visible within 15 s");
    console.log(`standard push of 50 rows x 2 views visible after ${visibleAfterMs.toFixed(1)} ms`);
  });

  it("refuses bad pushes with their codes before anything is produced", async () => {
    const before = await changelog.endOffsets();
    const bad = await push({
      push_source_name: "rider_profile",
      df: {
        rider_id: ["r1", "r2"],
        city: ["paris", "oslo"],
        score: [1, "high"],
        vip: [true, 1],
        blob: [null, null],
        event_timestamp: [0, 0],
      },
    });
    assert.equal(bad.status, 400);
    const error = bad.json.error as {
      code: string;
      details: { rejected: { index: number; code: string }[] };
    };
    assert.equal(error.code, "STRATA_E_BATCH_REJECTED");
    assert.deepEqual(
      error.details.rejected.map((r) => [r.index, r.code]),
      [[1, "STRATA_E_VALUE_TYPE"]],
    );
    assert.equal((await push({ push_source_name: "ghost", df: {} })).status, 404);
    assert.equal(
      (await push({ push_source_name: "rider_profile", df: {} }, server.key)).status,
      403,
    );
    assert.deepEqual(await changelog.endOffsets(), before, "nothing was produced");
  });

  it("refuses a push with an event time beyond now plus the allowed skew, naming the row", async () => {
    const before = await changelog.endOffsets();
    const refused = await push({
      push_source_name: "rider_profile",
      df: {
        rider_id: ["r1", "r2"],
        city: ["paris", "oslo"],
        score: [1, 2],
        vip: [true, false],
        blob: [null, null],
        event_timestamp: [new Date().toISOString(), "9999-12-31T00:00:00Z"],
      },
      wait: "acked",
    });
    assert.equal(refused.status, 400, refused.text);
    const error = refused.json.error as {
      code: string;
      details: { rejected: { index: number; code: string }[] };
    };
    assert.equal(error.code, "STRATA_E_BATCH_REJECTED");
    assert.deepEqual(
      error.details.rejected.map((r) => [r.index, r.code]),
      [[1, "STRATA_E_EVENT_TIME_IN_FUTURE"]],
    );
    assert.deepEqual(await changelog.endOffsets(), before, "nothing was produced");
  });
});

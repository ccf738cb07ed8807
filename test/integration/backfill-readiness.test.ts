import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { HybridLogicalClock } from "../../shared/versions/index.js";
import { backfillBed, REGION, type BackfillBed } from "../support/backfill.js";
import { TEST_TOPICS } from "../support/changelog.js";
import { startTestServer, type TestServer } from "../support/serve.js";
import { openStore, waitFor, type OpenedStore } from "../support/store.js";

const clock = new HybridLogicalClock();

describe("feature service readiness (replay prewarm)", () => {
  let bed: BackfillBed;
  let server: TestServer;
  let consumerStore: OpenedStore;
  before(async () => {
    bed = await backfillBed("standalone", "bfready");
    server = await startTestServer(bed.registry, {
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
    consumerStore = await openStore("standalone", bed.registry, { hotCache: false });
  });
  after(async () => {
    await server.close();
    await consumerStore.close();
    await bed.close();
  });

  const ready = async (service: string) => {
    const response = await fetch(`${server.adminUrl}/ready/feature-services/${service}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  test("503 until the view major is populated by a replay prewarm and the consumer is caught up, then 200", async () => {
    // stats@1 is written live, then the consumer is stopped: a backlog.
    const writer = await bed.fixture.openWriter();
    const rows = Array.from({ length: 50 }, (_, i) => ({
      view: "stats@1",
      entity: { driver_id: i + 1 },
      values: { rate: 0.5, trips: i, label: "x" },
      version: { eventTsMs: Date.now() - 1_000, epoch: 0, hlc: clock.now(), originRegion: REGION },
    }));
    await writer.write(rows, { wait: "acked" });

    let answer = await ready("model_a");
    assert.equal(answer.status, 503);
    const views = answer.body.views as { view: string; ready: boolean; reasons: string[] }[];
    assert.equal(views[0]!.view, "stats@1");
    assert.match(views[0]!.reasons[0]!, /not populated/);

    // Prewarm from the changelog alone, then flip: populated.
    const state = await bed.coordinator().run({ source: { kind: "replay" }, flip: true });
    assert.equal(state.stage, "flipped");
    assert.equal(state.progress.replayed >= 50, true);
    const { rows: read } = await consumerStore.store.read([{ driver_id: 7 }], ["stats@1:trips"]);
    assert.equal(read[0]!.values[0], 6, "the prewarmed generation holds the changelog's rows");

    // Populated; the consumer has never run, so its backlog is the whole log (50 <= 1,000): ready.
    await waitFor(async () => (await ready("model_a")).status === 200, 5_000, "ready", 100);
    answer = await ready("model_a");
    assert.equal(answer.body.status, "ready");

    // An unknown service is a 404 with the registry's code.
    const unknown = await fetch(`${server.adminUrl}/ready/feature-services/nope`);
    assert.equal(unknown.status, 404);
  });

  test("503 while the region's consumer lags beyond the bound", async () => {
    const writer = await bed.fixture.openWriter();
    const rows = Array.from({ length: 1_500 }, (_, i) => ({
      view: "stats@1",
      entity: { driver_id: 1_000 + i },
      values: { rate: 0.5, trips: i, label: "y" },
      version: { eventTsMs: Date.now() - 1_000, epoch: 0, hlc: clock.now(), originRegion: REGION },
    }));
    await writer.write(rows, { wait: "acked" });
    await waitFor(
      async () => (await ready("model_a")).status === 503,
      5_000,
      "not ready while lagging",
      200,
    );
    const answer = await ready("model_a");
    const lag = answer.body.consumerLag as { records: number; ready: boolean };
    assert.ok(lag.records > 1_000, JSON.stringify(lag));
    await bed.fixture.startConsumer(consumerStore.store, REGION);
    await bed.fixture.waitCaughtUp(REGION, 30_000);
    await waitFor(
      async () => (await ready("model_a")).status === 200,
      5_000,
      "ready once caught up",
      200,
    );
  });
});

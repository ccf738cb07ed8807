import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ChangelogWriter } from "../../shared/changelog/index.js";
import { isStrataError, type ErrorCode } from "../../shared/errors.js";
import type { WriteRow } from "../../shared/online-store/index.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { changelogFixture, type ChangelogFixture } from "../support/changelog.js";
import { testRepo, uniqueProject } from "../support/store.js";

const version = (counter: number) => ({
  eventTsMs: Date.now(),
  epoch: 0,
  hlc: { wallMs: Date.now(), counter },
  originRegion: "eu-west-1",
});

const standardRow = (driver: number, rate: unknown = 0.5): WriteRow => ({
  view: "stats@1",
  entity: { driver_id: driver },
  values: { rate, trips: 1, label: "x" },
  version: version(driver),
});

const criticalRow = (rider: string): WriteRow => ({
  view: "rider_profile",
  entity: { rider_id: rider, city: "oslo" },
  values: { score: 1.5, vip: true, blob: null },
  version: version(1),
});

const refusedFor = (code: ErrorCode) => (error: unknown) => isStrataError(error, code);

describe("the changelog writer under back-pressure, on the real Kafka", () => {
  const registry = new FeatureRegistry(testRepo(uniqueProject("writer")));
  let changelog: ChangelogFixture;
  let writer: ChangelogWriter;

  before(async () => {
    changelog = await changelogFixture(registry);
    // A queue of 3 that only sends when flushed: it stays full for as long as the test needs.
    writer = await changelog.openWriter(undefined, {
      maxRecords: 3,
      batchSize: 1_000,
      lingerMs: 600_000,
    });
    await writer.write([standardRow(1), standardRow(2), standardRow(3)]);
    assert.equal(writer.stats().queued, 3);
  });
  after(() => changelog.cleanup());

  it("refuses standard rows that do not fit with STRATA_E_BACKPRESSURE, before validating them", async () => {
    await assert.rejects(writer.write([standardRow(4)]), refusedFor("STRATA_E_BACKPRESSURE"));
    // An invalid row is refused for the full queue first; the retry gets its 400 once there is room.
    await assert.rejects(
      writer.write([standardRow(5, "fast")]),
      refusedFor("STRATA_E_BACKPRESSURE"),
    );
    assert.equal(writer.stats().queued, 3, "nothing was added to the queue");
  });

  it("still takes critical rows, which do not use the queue, and refuses a mixed call whole", async () => {
    const before = await changelog.endOffsets();
    const mixed = writer.write([criticalRow("r1"), standardRow(6)], { wait: "acked" });
    await assert.rejects(mixed, refusedFor("STRATA_E_BACKPRESSURE"));
    assert.deepEqual(await changelog.endOffsets(), before, "the critical row was not produced");

    const result = await writer.write([criticalRow("r1")], { wait: "acked" });
    assert.equal(result.reached, "acked");
    assert.equal(result.critical, 1);
    const after = await changelog.endOffsets();
    const produced = [...after].reduce((sum, [p, end]) => sum + end - before.get(p)!, 0);
    assert.equal(produced, 1);
  });

  it("takes writes again once the queue drained, and validates them", async () => {
    await writer.flush();
    assert.equal(writer.stats().queued, 0);
    await assert.rejects(
      writer.write([standardRow(5, "fast")]),
      refusedFor("STRATA_E_BATCH_REJECTED"),
    );
    const acked = writer.write([standardRow(4)], { wait: "acked" });
    await writer.flush(); // rather than wait for the linger
    assert.equal((await acked).reached, "acked");
  });
});

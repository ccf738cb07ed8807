// Fault (c) of the multi-region stack: one region's broker is stopped for some seconds and
// started again on its data while clients keep writing through /push in every region. Every
// acknowledged write must end up in every region, the region's consumer must recover by itself
// and MirrorMaker 2's flows to and from the region must resume by themselves. Needs
// `npm run stack -- up --regions a,b,c` (two regions are enough; npm run test:integration
// starts three).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { flowLags, startBroker, stopBroker } from "../../dev/stack/regions.js";
import { expectedState, waitForRows } from "../support/region-acknowledged.js";
import {
  DistinctEventTimes,
  pushOncePerRegion,
  startWriters,
  WriteLog,
  writersPerRegion,
} from "../support/region-traffic.js";
import { startRegions, type RegionsFixture } from "../support/regions.js";
import { sleep, waitFor } from "../support/store.js";

const RESTARTED = "b";
/** Long enough for b's writers to time out several times and for MM2 to fail its sends to b. */
const OUTAGE_MS = 10_000;
/** Writes keep going this long before the stop, and after the region takes writes again. */
const AROUND_MS = 3_000;
const CONVERGE_TIMEOUT_MS = 60_000;
/** The serving process' deadline for Kafka's acknowledgement: a write to b fails after it. */
const ACK_TIMEOUT_MS = 2_000;
const DRIVERS = Array.from({ length: 300 }, (_, i) => 1 + i);
const ROWS_PER_PUSH = 10;

/** A serving process' standard writes still queued or in flight to Kafka (its /metrics). */
async function queuedRecords(adminUrl: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const value = /^strata_changelog_queue_records\s+(\S+)$/m.exec(text)?.[1];
  if (value === undefined)
    throw new Error(`no strata_changelog_queue_records in ${adminUrl}/metrics`);
  return Number(value);
}

describe("regions: one region's broker restarted while every region takes writes", () => {
  let fixture: RegionsFixture;

  before(async () => {
    fixture = await startRegions("brk", {
      serveEnv: { STRATA_ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS) },
    });
  });
  // A failed run must not leave the stack without b's broker: cleanup() starts it again.
  after(() => fixture?.cleanup());

  it(
    "keeps every acknowledged write in every region; b's consumer and MM2 recover by themselves",
    { timeout: 150_000 },
    async () => {
      assert.ok(
        fixture.regions.some((r) => r.name === RESTARTED),
        `the stack has region ${RESTARTED}`,
      );
      const log = new WriteLog();
      const times = new DistinctEventTimes();
      // One write per region first, converged: MirrorMaker 2 has picked up the new topics.
      await pushOncePerRegion(fixture.regions, (i) => [1_000 + i], {
        tag: "warmup",
        wait: "acked",
        log,
        times,
      });
      assert.deepEqual(log.failures, [], "the warm-up writes were acknowledged");
      await waitForRows(fixture, fixture.regions.length, 30_000, "the warm-up writes");

      const consumer = fixture.region(RESTARTED).ingest.child;
      const writers = startWriters(writersPerRegion(fixture.regions, DRIVERS), {
        log,
        times,
        rowsPerPush: ROWS_PER_PUSH,
        wait: "acked",
        pauseMs: 20,
        requestTimeoutMs: 3 * ACK_TIMEOUT_MS,
        seed: 25_003,
      });
      // When the stop was asked, when it returned, when the start was asked, when it returned;
      // how long after that the region acknowledged writes again.
      const at = { stopping: 0, stopped: 0, starting: 0, started: 0, reopenedMs: 0 };
      try {
        await sleep(AROUND_MS);
        at.stopping = Date.now();
        await fixture.injectFault(
          () => stopBroker(RESTARTED),
          () => startBroker(RESTARTED),
        );
        at.stopped = Date.now();
        await sleep(OUTAGE_MS);
        at.starting = Date.now();
        await fixture.healFaults();
        at.started = Date.now();
        // The writers go on until the region acknowledges writes again, then a little longer.
        at.reopenedMs = await waitFor(
          async () => {
            await sleep(100);
            return log
              .acknowledgedWrites()
              .some((w) => w.region === RESTARTED && w.eventTsMs > at.started);
          },
          CONVERGE_TIMEOUT_MS,
          `${RESTARTED} acknowledged a write after its broker started`,
        );
        await sleep(AROUND_MS);
      } finally {
        await writers.stop();
      }
      const writersStoppedAt = Date.now();
      const failedIn = (region: string) => log.failedPushes(region);
      console.log(
        `broker ${RESTARTED} unreachable ${((at.started - at.stopping) / 1000).toFixed(1)} s (stop ${((at.stopped - at.stopping) / 1000).toFixed(1)} s, ` +
          `down ${((at.starting - at.stopped) / 1000).toFixed(1)} s, start ${((at.started - at.starting) / 1000).toFixed(1)} s); ` +
          `writes ${log.pushes} calls of ${ROWS_PER_PUSH} rows, ${log.acknowledged.size} of ${log.issued.size} rows acknowledged, ` +
          `failed calls ${fixture.regions.map((r) => `${r.name} ${failedIn(r.name)}`).join(", ")}: ` +
          [...log.failureReasons].map(([reason, n]) => `${reason} x${n}`).join(" | "),
      );
      assert.ok(failedIn(RESTARTED) > 0, `writes to ${RESTARTED} failed while its broker was down`);
      console.log(
        `${RESTARTED} acknowledged writes again ${(at.reopenedMs / 1000).toFixed(1)} s after its broker started`,
      );
      const duringOutage = log
        .acknowledgedWrites()
        .filter(
          (w) => w.region !== RESTARTED && w.eventTsMs > at.stopped && w.eventTsMs < at.started,
        );
      assert.ok(
        duringOutage.length > 0,
        `the other regions acknowledged writes while ${RESTARTED} was down`,
      );

      await fixture.waitConverged(CONVERGE_TIMEOUT_MS, `after ${RESTARTED}'s broker restart`);
      const convergedAt = Date.now();
      // Nothing unacknowledged may land after the judgement: wait until b's writer has sent or
      // dropped everything it queued during the outage, then for the regions to agree again.
      await waitFor(
        async () => {
          await sleep(200);
          return (await queuedRecords(fixture.region(RESTARTED).serve.adminUrl)) === 0;
        },
        30_000,
        `${RESTARTED}'s serving process drained its queue`,
      );
      await fixture.waitConverged(CONVERGE_TIMEOUT_MS, "after the queue drained");
      console.log(
        `all regions converged ${((convergedAt - at.started) / 1000).toFixed(1)} s after broker ${RESTARTED} started ` +
          `(writes went on until ${((writersStoppedAt - at.started) / 1000).toFixed(1)} s after it; ${((convergedAt - writersStoppedAt) / 1000).toFixed(1)} s after the last write)`,
      );

      const expected = await expectedState(fixture.registry, fixture.regions[0]!.redis, log);
      console.log(
        `rows won by acknowledged writes ${expected.ackedWinners}, by unacknowledged writes that landed ${expected.unackedWinners}`,
      );
      assert.deepEqual(expected.violations, [], "the stored winners follow the rule");
      assert.deepEqual(
        await fixture.differencesFrom(expected.checksums),
        [],
        "every region holds the expected state",
      );

      assert.equal(
        fixture.region(RESTARTED).ingest.child,
        consumer,
        "the test never restarted the consumer",
      );
      assert.equal(consumer.exitCode, null, `${RESTARTED}'s consumer is still running`);
      assert.equal(consumer.signalCode, null, `${RESTARTED}'s consumer is still running`);
      // kafkajs gives up on a broker that stays away and restarts the consumer inside the
      // process, with a growing backoff: what delays the region's recovery after the start.
      const restarts = fixture
        .region(RESTARTED)
        .ingest.output()
        .split("\n")
        .filter((l) => l.includes("Restarting the consumer"))
        .map((l) => /"retryTime":(\d+)/.exec(l)?.[1] ?? "?");
      console.log(
        `${RESTARTED}'s consumer process stayed up; kafkajs restarted its consumer ${restarts.length} time(s)${restarts.length > 0 ? `, after ${restarts.join(", ")} ms` : ""}`,
      );
      const flowsMs = await waitFor(
        async () => {
          await sleep(500);
          const flows = (await flowLags()).filter(
            (f) => f.source === RESTARTED || f.target === RESTARTED,
          );
          return flows.every((f) => f.records === 0 && f.error === undefined);
        },
        30_000,
        `MirrorMaker 2's flows to and from ${RESTARTED} caught up`,
      );
      console.log(
        `flows to and from ${RESTARTED} at lag 0 records ${(flowsMs / 1000).toFixed(1)} s after that`,
      );
    },
  );
});

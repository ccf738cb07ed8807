// Fault (d) of the multi-region stack: one region's Redis is wiped and rebuilt from its
// changelogs while the other regions keep serving. The region's consumer is stopped first;
// `npm run replay` (the real command, with the region's environment: its own changelog and
// its peers' replicated copies) rebuilds it; the consumer is started again and applies the
// writes made meanwhile; then `npm run reconcile` compares every region. Needs
// `npm run stack -- up --regions a,b,c` (two regions are enough; npm run test:integration
// starts three).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { wipeRedis } from "../../dev/stack/regions.js";
import {
  parseReconcile,
  parseReplay,
  RegionReader,
  regionEnv,
  runTool,
} from "../support/region-rebuild.js";
import { expectedState, waitForRows } from "../support/region-acknowledged.js";
import {
  DistinctEventTimes,
  startWriters,
  WriteLog,
  writersPerRegion,
} from "../support/region-traffic.js";
import { startRegions, type RegionsFixture } from "../support/regions.js";
import { sleep } from "../support/store.js";

/** The last region of the stack is rebuilt (c with three regions, b with two). */
const DRIVERS = Array.from({ length: 2_000 }, (_, i) => 1 + i);
const ROWS_PER_PUSH = 20;
const BASELINE_MS = 5_000;
/** Writes go on this long after the consumer started again. */
const AFTER_RESTART_MS = 2_000;
const CONVERGE_TIMEOUT_MS = 60_000;
const TOOL_TIMEOUT_MS = 60_000;

const rowsOf = async (fixture: RegionsFixture, name: string) =>
  ((await fixture.checksums()).get(name) ?? []).reduce((sum, c) => sum + c.rows, 0);

describe("regions: one region's Redis wiped and rebuilt from its changelogs, then reconciled", () => {
  let fixture: RegionsFixture;
  const readers: RegionReader[] = [];

  before(async () => {
    fixture = await startRegions("rebuild");
  });
  after(async () => {
    for (const reader of readers) await reader.stop();
    await fixture?.cleanup();
  });

  it(
    "rebuilds the region by replay while the others serve, and every region converges",
    { timeout: 150_000 },
    async () => {
      const rebuilt = fixture.regions.at(-1)!;
      const serving = fixture.regions.slice(0, -1);
      const peers = serving.map((r) => r.name);
      const log = new WriteLog();
      const specs = writersPerRegion(fixture.regions, DRIVERS);
      const writerOptions = {
        log,
        times: new DistinctEventTimes(),
        rowsPerPush: ROWS_PER_PUSH,
        wait: "acked",
        pauseMs: 20,
        requestTimeoutMs: 10_000,
      } as const;

      const baseline = startWriters(specs, { ...writerOptions, tag: "base", seed: 25_004 });
      await sleep(BASELINE_MS);
      await baseline.stop();
      await waitForRows(fixture, 1, 30_000, "the baseline writes");
      await fixture.waitConverged(CONVERGE_TIMEOUT_MS, "the baseline writes");
      const baselineRows = await rowsOf(fixture, rebuilt.name);

      // Readers of drivers every region wrote in the baseline, in each region that keeps serving.
      const written = [...new Set(log.acknowledgedWrites().map((w) => w.driver))].slice(0, 20);
      for (const r of serving) {
        readers.push(
          new RegionReader(r, ["stats@1:rate", "stats@1:label", "stats@2:trips"], written),
        );
      }
      const writers = startWriters(specs, { ...writerOptions, seed: 25_040 });

      let restartedAt = 0;
      try {
        await rebuilt.ingest.stop();
        await wipeRedis(rebuilt.name);
        assert.equal(await rowsOf(fixture, rebuilt.name), 0, `${rebuilt.name}'s Redis is empty`);
        const wipedAt = Date.now();
        const replayRun = await runTool(
          "functions/ingest/replay.ts",
          [],
          { ...regionEnv(fixture, rebuilt), STRATA_PEER_REGIONS: peers.join(",") },
          TOOL_TIMEOUT_MS,
        );
        assert.equal(replayRun.code, 0, `the replay succeeded: ${replayRun.output}`);
        const keysRebuilt = await rowsOf(fixture, rebuilt.name);
        const replay = parseReplay(replayRun.output);
        console.log(
          `replay of ${rebuilt.name} from its changelog and ${peers.join(", ")}'s copies: ${keysRebuilt} rows rebuilt ` +
            `(${baselineRows} before the wipe) from ${replay.records} records in ${replay.seconds} s ` +
            `(process ${(replayRun.elapsedMs / 1000).toFixed(1)} s): ${replay.applied} applied, ${replay.stale} stale, ${replay.rejected} rejected`,
        );
        assert.equal(replay.rejected, 0, "no record was rejected");
        assert.equal(replay.missing, "", "every peer's copy exists");
        assert.ok(
          keysRebuilt >= baselineRows,
          `the replay rebuilt at least the ${baselineRows} rows the region had`,
        );

        await fixture.restartIngest(rebuilt.name);
        restartedAt = Date.now();
        await sleep(AFTER_RESTART_MS);
        const duringRebuild = log
          .acknowledgedWrites()
          .filter((w) => w.eventTsMs > wipedAt && w.eventTsMs < restartedAt);
        assert.ok(duringRebuild.length > 0, "writes were made while the region was being rebuilt");
        console.log(`${duringRebuild.length} rows acknowledged while ${rebuilt.name} was rebuilt`);
      } finally {
        await writers.stop();
      }
      const stoppedAt = Date.now();
      await fixture.waitConverged(
        CONVERGE_TIMEOUT_MS,
        `${rebuilt.name} rebuilt, its consumer restarted`,
      );
      const convergedAt = Date.now();
      console.log(
        `converged ${((convergedAt - restartedAt) / 1000).toFixed(1)} s after ${rebuilt.name}'s consumer started again ` +
          `(${((convergedAt - stoppedAt) / 1000).toFixed(1)} s after the last write)`,
      );
      assert.deepEqual(log.failures, [], "every write was acknowledged");
      const expected = await expectedState(fixture.registry, fixture.regions[0]!.redis, log);
      assert.deepEqual(expected.violations, [], "the stored winners are the acknowledged ones");
      assert.deepEqual(
        await fixture.differencesFrom(expected.checksums),
        [],
        "every region, the rebuilt one too, holds the expected state",
      );

      const reconcileRun = await runTool(
        "functions/reconcile/main.ts",
        [
          "--json",
          "--verify",
          "20000",
          ...fixture.regions.map((r) => `--region=${r.name}=${r.region.redisUrl}`),
        ],
        regionEnv(fixture, rebuilt),
        TOOL_TIMEOUT_MS,
      );
      for (const reader of readers) await reader.stop();
      const report = parseReconcile(reconcileRun);
      console.log(
        `reconcile over ${report.regions.join(", ")}: ${report.outcome}, ${report.keysCompared} keys compared in ` +
          `${(report.elapsedMs / 1000).toFixed(2)} s (${report.keysPerSecond} keys/s), ${report.divergent} divergent, ${report.republished} re-published`,
      );
      assert.equal(reconcileRun.code, 0, `reconcile exited 0: ${reconcileRun.output}`);
      assert.equal(report.outcome, "converged", "reconcile found the converged regions converged");
      assert.equal(
        report.keysCompared,
        expected.ackedWinners + expected.unackedWinners,
        "reconcile compared every row",
      );

      for (const reader of readers) {
        console.log(
          `reader in ${reader.region.name}: ${reader.reads} reads, ${reader.bad.length} without values`,
        );
        assert.ok(reader.reads > 10, `${reader.region.name} was read throughout`);
        assert.deepEqual(reader.bad.slice(0, 5), [], `${reader.region.name} kept serving values`);
      }
    },
  );
});

// MirrorMaker 2 killed with SIGKILL mid-stream against the real multi-region stack (npm run
// stack -- up --regions a,b,c), while every region's serving process takes pushes, then started
// again. Nothing is lost: every record of each region's changelog is in every peer's copy, every
// acknowledged write is stored in every region, and every region holds exactly the state computed
// from the changelogs. Duplicates (MM2 replays what it had not committed) are counted per flow
// and change nothing.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { killMirrorMaker, startMirrorMaker } from "../../dev/stack/regions.js";
import { changelogTopic, replicatedChangelogTopic } from "../../shared/changelog/index.js";
import { ingestRows, judgeByChangelogs, readTopic } from "../support/region-state.js";
import {
  SEED_CONVERGE_MS,
  seededTraffic,
  startWriters,
  writersPerRegion,
} from "../support/region-traffic.js";
import { startReaders } from "../support/region-readers.js";
import { startRegions, type RegionsFixture } from "../support/regions.js";
import { sleep } from "../support/store.js";

/** Each region writes its own drivers, several times each, so a replayed older record meets a newer one. */
const DRIVERS_PER_REGION = 150;
const WRITERS_PER_REGION = 2;
const ROWS_PER_PUSH = 5;
const PAUSE_MS = 50;
/** Writes flowing before the kill, and while MM2 is down before its restart. */
const BEFORE_KILL_MS = 4_000;
const DOWN_MS = 4_000;
/** Writes once MM2 carries records again. */
const AFTER_RESTART_MS = 2_000;
const CONVERGE_MS = 60_000;

describe("MirrorMaker 2 killed with SIGKILL mid-stream and started again", () => {
  let fixture: RegionsFixture | undefined;
  after(() => fixture?.cleanup());

  it("loses no record and no acknowledged write, and its duplicates change nothing", async () => {
    fixture = await startRegions("mirror_crash", { minRegions: 3 });
    const regions = fixture.regions;
    const driversOf = regions.map((_, i) =>
      Array.from({ length: DRIVERS_PER_REGION }, (_, d) => (i + 1) * 10_000 + d),
    );
    const { log, times } = await seededTraffic(fixture, (i) => driversOf[i]!);
    // The seed (wait "applied") is applied by its serving process and by the local consumer,
    // whichever comes first; the other counts it stale. Duplicates are counted from here on.
    await fixture.waitConsumed(SEED_CONVERGE_MS);
    const staleAfterSeed = await Promise.all(regions.map((r) => ingestRows(r.ingest, "stale")));

    const specs = writersPerRegion(regions, (i) => driversOf[i]!, WRITERS_PER_REGION);
    const traffic = {
      log,
      times,
      rowsPerPush: ROWS_PER_PUSH,
      wait: "acked",
      pauseMs: PAUSE_MS,
    } as const;
    const measured = { startMs: 0, restartedAt: 0, convergedMs: 0, afterLastWriteMs: 0 };
    const readers = startReaders(regions, driversOf.flat(), {
      perRegion: 1,
      pauseMs: 100,
      writes: log,
    });
    try {
      const writers = startWriters(specs, traffic);
      try {
        await sleep(BEFORE_KILL_MS);
        const killed = await fixture.injectFault(killMirrorMaker, (wasRunning) =>
          wasRunning ? startMirrorMaker() : Promise.resolve(),
        );
        assert.ok(killed, "MirrorMaker 2 was running");
        await sleep(DOWN_MS);
      } finally {
        await writers.stop();
      }
      // The writers rest while the JVM starts (it competes with them for this machine's cores);
      // the records written while MM2 was down wait in their sources.
      measured.restartedAt = performance.now();
      await fixture.healFaults();
      measured.startMs = performance.now() - measured.restartedAt;
      const more = startWriters(specs, { ...traffic, tag: "after" });
      await sleep(AFTER_RESTART_MS);
      await more.stop();
      const lastWriteAt = performance.now();
      await fixture.waitConverged(CONVERGE_MS, "after restarting MirrorMaker 2");
      measured.convergedMs = performance.now() - measured.restartedAt;
      measured.afterLastWriteMs = performance.now() - lastWriteAt;
    } finally {
      await readers.stop();
    }
    const reads = await readers.stop();
    // Duplicates change no state, so convergence comes before the last of them is consumed.
    await fixture.waitConsumed(CONVERGE_MS);
    console.log(
      `  reads during the crash and replay: ${reads.requests} requests, ${reads.keyReads} driver reads`,
    );
    assert.deepEqual(reads.regressions, [], "a read went back within a serving process");
    assert.deepEqual(reads.torn, [], "a read returned a value of another write than its version");

    // Every flow: the source's own changelog against its copy in the target.
    const locals = new Map(
      await Promise.all(
        regions.map(
          async (r) =>
            [r.name, await readTopic(r.region, changelogTopic(fixture!.project))] as const,
        ),
      ),
    );
    const flows: string[] = [];
    const duplicatesInto = new Map(regions.map((r) => [r.name, 0]));
    for (const source of regions) {
      const local = locals.get(source.name)!;
      const sent = new Set(local);
      for (const target of regions.filter((r) => r !== source)) {
        const copy = await readTopic(
          target.region,
          replicatedChangelogTopic(fixture.project, source.name),
        );
        const copied = new Set(copy);
        const missing = local.filter((value) => !copied.has(value));
        const foreign = copy.filter((value) => !sent.has(value));
        assert.deepEqual(missing.slice(0, 5), [], `${source.name}->${target.name} lost records`);
        assert.deepEqual(foreign.slice(0, 5), [], `${source.name}->${target.name} made records up`);
        duplicatesInto.set(
          target.name,
          duplicatesInto.get(target.name)! + copy.length - copied.size,
        );
        flows.push(
          `${source.name}->${target.name} ${local.length}/${copy.length} (${copy.length - copied.size} duplicates)`,
        );
      }
    }
    const stale = await Promise.all(regions.map((r) => ingestRows(r.ingest, "stale")));
    console.log(
      `  MirrorMaker 2 restart carried every flow after ${(measured.startMs / 1000).toFixed(1)} s; regions converged ${(measured.convergedMs / 1000).toFixed(1)} s after the restart began (${(measured.afterLastWriteMs / 1000).toFixed(1)} s after the last write)`,
    );
    console.log(
      `  ${log.pushes} pushes, ${log.acknowledged.size} of ${log.issued.size} writes acknowledged; records source/copy per flow: ${flows.join(", ")}`,
    );
    console.log(
      `  duplicates: ${[...duplicatesInto.values()].reduce((sum, n) => sum + n, 0)} records; stale rows counted by the consumers: ${regions
        .map((r, i) => `${r.name} ${stale[i]}`)
        .join(", ")}`,
    );

    assert.deepEqual(log.failures, [], "every push was acknowledged");
    const judged = await judgeByChangelogs(fixture, [...locals.values()].flat(), log);
    assert.deepEqual(judged.missing, [], "acknowledged writes missing from the changelogs");
    assert.deepEqual(judged.lost, [], "acknowledged writes lost");
    assert.deepEqual(judged.differences, [], "a region is not the expected state");
    // Each duplicate met its own version (or a newer one) and changed nothing: the stale rows
    // the consumers counted after the seed are exactly the duplicates delivered to them.
    assert.deepEqual(
      stale.map((n, i) => n - staleAfterSeed[i]!),
      regions.map((r) => duplicatesInto.get(r.name)!),
      "stale rows per region after the seed are not the duplicates delivered there",
    );
  });
});

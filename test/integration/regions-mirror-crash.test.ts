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
import { diffChecksums } from "../../shared/online-store/index.js";
import { checksumsOf } from "../support/changelog.js";
import {
  expectedRows,
  ingestRows,
  labelOf,
  lostWrites,
  readTopic,
  recordOf,
} from "../support/region-state.js";
import {
  DistinctEventTimes,
  WriteLog,
  newWrites,
  pushLogged,
  startWriters,
} from "../support/region-traffic.js";
import { startRegions, type RegionsFixture } from "../support/regions.js";

/** Each region writes its own drivers, several times each, so a replayed older record meets a newer one. */
const DRIVERS_PER_REGION = 150;
const WRITERS_PER_REGION = 2;
const ROWS_PER_PUSH = 5;
/** Writes flowing before the kill, and while MM2 is down before its restart. */
const BEFORE_KILL_MS = 4_000;
const DOWN_MS = 4_000;
/** Writes still flowing once MM2 carries records again. */
const AFTER_RESTART_MS = 2_000;
const SEED_CONVERGE_MS = 30_000;
const CONVERGE_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("MirrorMaker 2 killed with SIGKILL mid-stream and started again", () => {
  let fixture: RegionsFixture | undefined;
  let killed = false;

  after(async () => {
    if (killed) await startMirrorMaker();
    await fixture?.cleanup();
  });

  it("loses no record and no acknowledged write, and its duplicates change nothing", async () => {
    fixture = await startRegions("mirror_crash", { minRegions: 3 });
    const regions = fixture.regions;
    const driversOf = regions.map((_, i) =>
      Array.from({ length: DRIVERS_PER_REGION }, (_, d) => (i + 1) * 10_000 + d),
    );
    const log = new WriteLog();
    const times = new DistinctEventTimes();

    const seeded = await Promise.all(
      regions.map((r, i) =>
        pushLogged(r.serve, newWrites(r.name, "seed", driversOf[i]!, times), "applied", log),
      ),
    );
    assert.deepEqual(
      seeded,
      regions.map(() => true),
      log.failures.join("\n"),
    );
    await fixture.waitConverged(SEED_CONVERGE_MS, "the seed writes before the crash");

    const writers = startWriters(
      regions.flatMap((r, i) =>
        Array.from({ length: WRITERS_PER_REGION }, () => ({
          region: r.name,
          serve: r.serve,
          drivers: driversOf[i]!,
        })),
      ),
      { log, times, rowsPerPush: ROWS_PER_PUSH, wait: "acked" },
    );
    const measured = { startMs: 0, restartedAt: 0 };
    try {
      await sleep(BEFORE_KILL_MS);
      killed = await killMirrorMaker();
      assert.ok(killed, "MirrorMaker 2 was running");
      await sleep(DOWN_MS);
      measured.restartedAt = performance.now();
      await startMirrorMaker();
      killed = false;
      measured.startMs = performance.now() - measured.restartedAt;
      await sleep(AFTER_RESTART_MS);
    } finally {
      await writers.stop();
    }
    await fixture.waitConverged(CONVERGE_MS, "after restarting MirrorMaker 2");
    const convergedMs = performance.now() - measured.restartedAt;

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
    let duplicates = 0;
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
        duplicates += copy.length - copied.size;
        flows.push(
          `${source.name}->${target.name} ${local.length}/${copy.length} (${copy.length - copied.size} duplicates)`,
        );
      }
    }
    const stale = await Promise.all(regions.map((r) => ingestRows(r.ingest, "stale")));
    console.log(
      `  MirrorMaker 2 restart carried every flow after ${(measured.startMs / 1000).toFixed(1)} s; regions converged ${(convergedMs / 1000).toFixed(1)} s after the restart began`,
    );
    console.log(
      `  ${log.pushes} pushes, ${log.acknowledged.size} of ${log.issued.size} writes acknowledged; records source/copy per flow: ${flows.join(", ")}`,
    );
    console.log(
      `  duplicates: ${duplicates} records; stale rows counted by the consumers: ${regions
        .map((r, i) => `${r.name} ${stale[i]}`)
        .join(", ")}`,
    );

    assert.deepEqual(log.failures, [], "every push was acknowledged");
    const records = [...locals.values()].flat();
    const labels = new Set(records.map((value) => labelOf(fixture!.registry, recordOf(value))));
    const unlogged = [...log.acknowledged].filter((label) => !labels.has(label));
    assert.deepEqual(unlogged.slice(0, 20), [], "acknowledged writes missing from the changelogs");
    assert.deepEqual(
      await lostWrites(regions, fixture.registry, log),
      [],
      "acknowledged writes lost",
    );
    const expected = await checksumsOf(
      fixture.registry,
      expectedRows(fixture.registry, records, log),
    );
    for (const [name, checksums] of await fixture.checksums()) {
      assert.deepEqual(
        diffChecksums(expected, checksums),
        [],
        `region ${name} is not the expected state`,
      );
    }
  });
});

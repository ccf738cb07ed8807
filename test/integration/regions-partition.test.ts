// A partition of one region against the real multi-region stack (npm run stack -- up --regions
// a,b,c): region a's replication links are cut at its toxiproxy while writers push the same
// drivers through the serving process of every region, and readers poll every region. During the
// cut b and c converge with each other and a holds none of their new writes (nor they a's);
// after the heal every region converges to the state computed from the three changelogs, no
// acknowledged write is lost, no read went back in any serving process, and the cross-region
// conflicts are counted by the consumers.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { cutRegion, restoreRegion } from "../../dev/stack/regions.js";
import { changelogTopic } from "../../shared/changelog/index.js";
import { diffChecksums } from "../../shared/online-store/index.js";
import {
  ingestRows,
  judgeByChangelogs,
  readTopic,
  storedEventTimes,
} from "../support/region-state.js";
import { seededTraffic, startWriters, writersPerRegion } from "../support/region-traffic.js";
import { startReaders } from "../support/region-readers.js";
import { startRegions, type RegionsFixture } from "../support/regions.js";
import { sleep } from "../support/store.js";

const PARTITIONED = "a";
const DRIVERS = Array.from({ length: 200 }, (_, i) => 1_000 + i);
const WRITERS_PER_REGION = 3;
const ROWS_PER_PUSH = 4;
/** The cut lasts at least this long; writers push during most of it. */
const CUT_MS = 22_000;
const WRITE_MS = 18_000;
/** Bounds: b and c agreeing during the cut, and every region agreeing after the heal. */
const PEERS_AGREE_MS = 20_000;
const HEAL_CONVERGE_MS = 60_000;

describe("a partition of region a while every region writes the same drivers, then the heal", () => {
  let fixture: RegionsFixture | undefined;
  after(() => fixture?.cleanup());

  it("converges after the heal with no acknowledged write lost, no read going back, and conflicts counted", async () => {
    fixture = await startRegions("partition", { minRegions: 3 });
    const regions = fixture.regions;
    const a = fixture.region(PARTITIONED);
    const peers = regions.filter((r) => r !== a);
    // Every region writes a third of the drivers: once converged, every flow carried this project.
    const { log, times } = await seededTraffic(fixture, (i) =>
      DRIVERS.filter((_, d) => d % regions.length === i),
    );

    const readers = startReaders(regions, DRIVERS, { perRegion: 2, pauseMs: 50, writes: log });
    const measured = { healMs: 0, cutLastedMs: 0, peersAgreedMs: 0 };
    const concurrentAtHeal: number[] = [];
    try {
      await fixture.injectFault(
        () => cutRegion(PARTITIONED),
        () => restoreRegion(PARTITIONED),
      );
      const cutAt = performance.now();
      const firstCutEventTs = times.next();
      const writers = startWriters(writersPerRegion(regions, DRIVERS, WRITERS_PER_REGION), {
        log,
        times,
        rowsPerPush: ROWS_PER_PUSH,
        wait: "applied",
      });
      await sleep(WRITE_MS);
      await writers.stop();

      // The partition is real: b and c converge with each other, a does not join them, and no
      // write pushed since the cut crossed between a and the others.
      const peersStarted = performance.now();
      for (;;) {
        const all = await fixture.checksums();
        const differ = diffChecksums(all.get(peers[0]!.name)!, all.get(peers[1]!.name)!);
        if (differ.length === 0) break;
        if (performance.now() - peersStarted > PEERS_AGREE_MS) {
          assert.fail(
            `b and c still differ ${PEERS_AGREE_MS} ms into the cut: ${differ.join("; ")}`,
          );
        }
        await sleep(200);
      }
      measured.peersAgreedMs = performance.now() - peersStarted;
      const all = await fixture.checksums();
      const split = diffChecksums(all.get(a.name)!, all.get(peers[0]!.name)!);
      assert.notDeepEqual(split, [], "region a agrees with b and c during the cut");
      const byEventTs = new Map([...log.issued.values()].map((w) => [w.eventTsMs, w]));
      for (const region of regions) {
        const stored = await storedEventTimes(region.redis, fixture.registry, DRIVERS);
        const crossed = [...stored.values()]
          .map((eventTs) => byEventTs.get(eventTs))
          .filter((w) => w !== undefined && w.eventTsMs >= firstCutEventTs)
          .filter((w) => (w!.region === a.name) !== (region === a));
        assert.deepEqual(
          crossed.map((w) => `${w!.label} in ${region.name}`),
          [],
          "a write crossed the cut",
        );
      }

      await sleep(Math.max(0, CUT_MS - (performance.now() - cutAt)));
      measured.cutLastedMs = performance.now() - cutAt;
      // Writers have stopped and b and c agree: conflicts counted from here on are between
      // writes on either side of the cut.
      concurrentAtHeal.push(
        ...(await Promise.all(regions.map((r) => ingestRows(r.ingest, "concurrent")))),
      );
      await fixture.healFaults();
      measured.healMs = await fixture.waitConverged(HEAL_CONVERGE_MS, "after healing region a");
    } finally {
      await readers.stop();
    }
    const reads = await readers.stop();
    console.log(
      `  reads: ${reads.requests} requests, ${reads.keyReads} driver reads (${Object.entries(
        reads.byRegion,
      )
        .map(([name, r]) => `${name} ${r.requests}/${r.errors} errors`)
        .join(", ")})`,
    );
    assert.deepEqual(reads.regressions, [], "a read went back within a serving process");
    assert.deepEqual(reads.torn, [], "a read returned a value of another write than its version");
    for (const r of Object.values(reads.byRegion))
      assert.ok(r.requests > 0, "every region was read");

    // Converged state can come before the last records are consumed (a stale one changes
    // nothing), and the conflicts are counted as records are consumed.
    await fixture.waitConsumed(HEAL_CONVERGE_MS);
    const records = (
      await Promise.all(regions.map((r) => readTopic(r.region, changelogTopic(fixture!.project))))
    ).flat();
    const concurrent = await Promise.all(regions.map((r) => ingestRows(r.ingest, "concurrent")));
    console.log(
      `  cut ${(measured.cutLastedMs / 1000).toFixed(1)} s; ${log.pushes} pushes, ${log.acknowledged.size} of ${log.issued.size} writes acknowledged, ${records.length} changelog records; b and c agreed ${(measured.peersAgreedMs / 1000).toFixed(1)} s after the writers stopped`,
    );
    console.log(
      `  converged ${(measured.healMs / 1000).toFixed(1)} s after the heal; concurrent cross-region rows counted by the consumers before the heal / after it: ${regions
        .map(
          (r, k) => `${r.name} ${concurrentAtHeal[k]} / ${concurrent[k]! - concurrentAtHeal[k]!}`,
        )
        .join(", ")}`,
    );

    assert.deepEqual(log.failures, [], "every push was acknowledged");
    const judged = await judgeByChangelogs(fixture, records, log);
    assert.deepEqual(judged.missing, [], "acknowledged writes missing from the changelogs");
    assert.deepEqual(judged.lost, [], "acknowledged writes lost");
    assert.deepEqual(judged.differences, [], "a region is not the expected state");
    regions.forEach((r, k) =>
      assert.ok(
        concurrent[k]! > concurrentAtHeal[k]!,
        `region ${r.name} counted no concurrent write after the heal, although each side wrote unaware of the other`,
      ),
    );
  });
});

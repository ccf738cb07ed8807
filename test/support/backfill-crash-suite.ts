// Shared by test/integration/backfill-crash-standalone.test.ts and backfill-crash-cluster.test.ts.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { repoRoot } from "../../dev/stack/paths.js";
import type { BackfillStage } from "../../shared/backfill/index.js";
import { HybridLogicalClock } from "../../shared/versions/index.js";
import { backfillBed, REGION, statsCsv, type BackfillBed } from "./backfill.js";
import { openStore, sleep, waitFor, type OpenedStore } from "./store.js";
import type { Topology } from "./servers.js";

const N = 30_000;
const clock = new HybridLogicalClock();

/** Runs the coordinator as a child and SIGKILLs it once `killWhen` holds (or it paused). */
async function runAndKill(
  bed: BackfillBed,
  topology: string,
  file: string,
  steps: string,
  pauseAfter: string | undefined,
  killWhen: (output: string) => Promise<boolean> | boolean,
): Promise<void> {
  let output = "";
  const child = spawn(process.execPath, ["--import", "tsx", "test/support/backfill-child.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      STRATA_TEST_PROJECT: bed.registry.project,
      BACKFILL_TOPOLOGY: topology,
      BACKFILL_FILE: file,
      BACKFILL_STEPS: steps,
      BACKFILL_PAUSE_AFTER: pauseAfter ?? "",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  try {
    await waitFor(
      async () => (await killWhen(output)) || child.exitCode !== null,
      60_000,
      "kill point",
      5,
    );
    assert.equal(child.exitCode, null, `the child ended before its kill point: ${output}`);
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
}

/**
 * The coordinator killed at each stage, then resumed or aborted, on one topology. One test file
 * per topology (backfill-crash-*.test.ts): both in one file outlast the runner's per-file limit.
 */
export function backfillCrashSuite(topology: Topology): void {
  describe(`backfill coordinator killed (${topology})`, () => {
    let reader: OpenedStore;
    const beds: BackfillBed[] = [];
    before(async () => {
      const bed = await backfillBed(topology, "bfk");
      // Closed with the others: an open bed's Kafka clients would keep the file from exiting.
      beds.push(bed);
      reader = await openStore(topology, bed.registry);
    });
    after(async () => {
      for (const bed of beds) await bed.close();
      await reader.close();
    });

    /** A bed with N drivers at rate 1 in the active generation and a CSV correcting them to 2. */
    async function seeded(): Promise<{ bed: BackfillBed; file: string; store: OpenedStore }> {
      const bed = await backfillBed(topology, "bfk");
      beds.push(bed);
      const t0 = Date.now() - 3_600_000;
      const store = await openStore(topology, bed.registry, { hotCache: false });
      await store.store.write(
        Array.from({ length: 50 }, (_, i) => ({
          view: "stats@1",
          entity: { driver_id: i + 1 },
          values: { rate: 1, trips: i + 1, label: `d${i + 1}` },
          version: { eventTsMs: t0, epoch: 0, hlc: clock.now(), originRegion: REGION },
        })),
      );
      const file = bed.writeCsv(
        "fix.csv",
        statsCsv(Array.from({ length: N }, (_, i) => ({ driver: i + 1, rate: 2, eventTsMs: t0 }))),
      );
      return { bed, file, store };
    }

    const stageOf = async (bed: BackfillBed): Promise<BackfillStage | undefined> =>
      (await bed.coordinator().status())?.stage;
    const rates = async (store: OpenedStore, drivers: number[]) =>
      (
        await store.store.read(
          drivers.map((d) => ({ driver_id: d })),
          ["stats@1:rate"],
        )
      ).rows.map((r) => r.values[0]);

    const points: {
      name: string;
      steps: string;
      pause?: string;
      when: (bed: BackfillBed, out: string) => Promise<boolean> | boolean;
    }[] = [
      {
        name: "after start",
        steps: "start,advance",
        pause: "start",
        when: (_b, out) => out.includes("paused"),
      },
      {
        name: "while producing",
        steps: "start,advance",
        when: async (b) => ((await b.coordinator().status())?.progress.produced ?? 0) > 0,
      },
      {
        name: "while loading",
        steps: "start,advance",
        when: async (b) => ((await b.coordinator().status())?.progress.loaded ?? 0) > 0,
      },
      {
        name: "after load",
        steps: "start,advance,verify",
        pause: "advance",
        when: (_b, out) => out.includes("paused"),
      },
      {
        name: "after verify",
        steps: "start,advance,verify,flip",
        pause: "verify",
        when: (_b, out) => out.includes("paused"),
      },
    ];

    for (const point of points) {
      test(`killed ${point.name}, then resumed: the flip serves every corrected row`, async () => {
        const { bed, file, store } = await seeded();
        try {
          await runAndKill(bed, topology, file, point.steps, point.pause, (out) =>
            point.when(bed, out),
          );
          await sleep(4_200); // the child's lease lapses
          const coordinator = bed.coordinator();
          const state = await coordinator.run({ source: { kind: "file", path: file }, flip: true });
          assert.equal(state.stage, "flipped", JSON.stringify(state));
          assert.equal(state.progress.verified?.rows, N);
          assert.deepEqual(await rates(store, [1, 25, 50, N]), [2, 2, 2, 2]);
        } finally {
          await store.close();
        }
      });

      test(`killed ${point.name}, then aborted: the active generation untouched, the new one gone`, async () => {
        const { bed, file, store } = await seeded();
        try {
          await runAndKill(bed, topology, file, point.steps, point.pause, (out) =>
            point.when(bed, out),
          );
          await sleep(4_200);
          const coordinator = bed.coordinator();
          const before = await coordinator.status();
          const { state } = await coordinator.abort();
          assert.equal(state.stage, "aborted");
          assert.equal(await store.store.activeGeneration("stats@1"), 0);
          assert.deepEqual(await rates(store, [1, 25, 50]), [1, 1, 1]);
          const hash = await bed.coordinatorStore.client.hgetall(
            `fs:{${bed.registry.project}:driver:i1}`,
          );
          const newGen = before?.newGeneration ?? 1;
          assert.deepEqual(
            Object.keys(hash).filter((f) => f.startsWith(`stats@1#${newGen}:`)),
            [],
            "the new generation is deleted",
          );
          assert.equal(
            await bed.coordinatorStore.client.exists(`fs:{${bed.registry.project}:driver:i${N}}`),
            0,
            "rows only the backfill had are gone",
          );
          assert.deepEqual(
            await bed.coordinatorStore.client.hgetall(
              `fs:{${bed.registry.project}}:backfill:writing`,
            ),
            {},
          );
          assert.equal(await stageOf(bed), "aborted");
        } finally {
          await store.close();
        }
      });
    }

    test("killed during gc after the flip, then gc resumed: the old generation is deleted, the new one served", async () => {
      const { bed, file, store } = await seeded();
      try {
        await runAndKill(bed, topology, file, "start,advance,verify,flip,gc", "flip", (out) =>
          out.includes("paused"),
        );
        await sleep(4_200);
        const { state } = await bed.coordinator().gc({ force: true });
        assert.equal(state.stage, "collected");
        const hash = await bed.coordinatorStore.client.hgetall(
          `fs:{${bed.registry.project}:driver:i1}`,
        );
        assert.deepEqual(
          Object.keys(hash).filter((f) => f.startsWith("stats@1#0:")),
          [],
        );
        assert.deepEqual(await rates(store, [1, N]), [2, 2]);
      } finally {
        await store.close();
      }
    });
  });
}

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { readAggregates, writeAggregationEvents } from "../../shared/aggregations/index.js";
import { encodeEntityKey } from "../../shared/key-codec.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { aggregationBed, type AggregationBed } from "../support/aggregation-bed.js";
import { aggregationTestRepo } from "../support/aggregation-repo.js";
import { startIngestProcess, type IngestProcess } from "../support/ingest-process.js";
import { connectRedis, TOPOLOGIES, uniqueName, type RedisClient } from "../support/servers.js";

// The real ingest process, killed with SIGKILL while it applies aggregation events, then
// restarted: Kafka redelivers what was applied but not committed, and the offsets kept in each
// entity's hash must make that a no-op, so totals are exact.
const ENTITIES = 200;
const PER_ENTITY = 60;
const TOTAL = ENTITIES * PER_ENTITY;

for (const topology of TOPOLOGIES) {
  describe(`aggregation consumer killed mid-batch (${topology})`, () => {
    const project = uniqueName("aggk").replace(/[^a-z0-9_]/g, "_");
    const registry = new FeatureRegistry(aggregationTestRepo(project));
    const view = registry.aggregationView("card_velocity");
    const keys = Array.from({ length: ENTITIES }, (_, i) =>
      encodeEntityKey(view.joinKeys, { card_id: `card-${i}` }),
    );
    let bed: AggregationBed;
    let redis: RedisClient;
    const processes: IngestProcess[] = [];
    const now = Date.now();

    before(async () => {
      bed = await aggregationBed(project);
      redis = connectRedis(topology);
    });
    after(async () => {
      for (const p of processes) await p.stop().catch(() => undefined);
      await redis.quit();
      await bed.cleanup();
    });

    function start(): IngestProcess {
      const cluster = resolveEndpoints().cluster.address.map((n) => `${n.host}:${n.port}`);
      const child = startIngestProcess({
        project,
        region: "a",
        env: {
          STRATA_REPO: "test/support/aggregation-repo-module.ts",
          // Small chunks: many commits, so a kill lands between an apply and its commit.
          STRATA_INGEST_CHUNK: "100",
          STRATA_INGEST_SESSION_TIMEOUT_MS: "6000",
          ...(topology === "cluster" ? { REDIS_CLUSTER_NODES: cluster.join(",") } : {}),
        },
      });
      processes.push(child);
      return child;
    }

    /** Sum over entities of the 10-minute cents sum and the 5-minute count, read from tiles. */
    async function totals(): Promise<{ count: bigint; cents: bigint }> {
      const rows = await readAggregates(redis, project, view, keys, now);
      let count = 0n;
      let cents = 0n;
      for (const row of rows) {
        if (!row.hasState) continue;
        count += BigInt(row.texts[0]!);
        cents += BigInt(row.texts[2]!);
      }
      return { count, cents };
    }

    it("counts every event exactly once after a SIGKILL and a restart", async () => {
      // Every event inside every window at `now`, none late: the totals are the event count
      // and the sum of the cents.
      let expectedCents = 0n;
      const rows = [];
      for (let n = 0; n < PER_ENTITY; n++) {
        for (let i = 0; i < ENTITIES; i++) {
          const cents = BigInt(i * 1000 + n) * 1_000_000_007n;
          expectedCents += cents;
          rows.push({
            view,
            row: { card_id: `card-${i}`, amount: 1.5, cents: cents.toString(), merchant: `m${n}` },
            eventTsMs: now - 200_000 + n * 1000,
          });
        }
      }
      for (let i = 0; i < rows.length; i += 2_000) {
        await writeAggregationEvents(bed.producer, project, rows.slice(i, i + 2_000));
      }

      for (let kill = 0; kill < 2; kill++) {
        const child = start();
        // Kill it once it is applying: part of the events in, not all.
        const floor = BigInt(Math.floor((TOTAL * (kill + 1)) / 4));
        const deadline = Date.now() + 60_000;
        while ((await totals()).count < floor) {
          assert.ok(Date.now() < deadline, `no progress: ${child.output().slice(-2000)}`);
          await sleep(20);
        }
        child.child.kill("SIGKILL");
        await new Promise((resolve) => child.child.once("exit", resolve));
      }
      start();
      const deadline = Date.now() + 90_000;
      let seen = await totals();
      while (seen.count < BigInt(TOTAL) && Date.now() < deadline) {
        await sleep(100);
        seen = await totals();
      }
      // Redelivery after the kills is over once the count is complete; a double count would show.
      await sleep(1_000);
      seen = await totals();
      assert.equal(seen.count, BigInt(TOTAL));
      assert.equal(seen.cents, expectedCents);
    });
  });
}

// Several serving processes on one Redis, each with its own hot cache, writing the same keys
// (POST /push with wait "applied", which applies the rows with the CAS in the writing process)
// and reading them back: after every acknowledged write, every process must serve the
// winning version within the invalidation bound, far below the hot cache's safety TTL, and
// whatever it writes (applied, stale or concurrent rows).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { changelogFixture, type ChangelogFixture } from "../support/changelog.js";
import { seededRandom } from "../support/seeded-random.js";
import { post } from "../support/serve.js";
import { startServeProcess, type ServeProcess } from "../support/serve-process.js";
import { TOPOLOGIES } from "../support/servers.js";
import { testRepo, uniqueProject } from "../support/store.js";

/**
 * Far below the safety TTL (60 s): a process that converges within this heard of the write.
 * Wider than the single-process test's bound: each check is an HTTP read of a process
 * sharing the machine with two others and with six readers running throughout.
 */
const BOUND_MS = 5_000;
const ROUNDS = 40;
/** One region per process, so that writes from different processes are concurrent (clock vectors). */
const REGIONS = ["conv-a", "conv-b", "conv-c"];

interface Pushed {
  applied: number;
  stale: number;
  concurrent: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

for (const topology of TOPOLOGIES) {
  describe(`hot caches of several serving processes after stale and fresh writes (${topology})`, () => {
    const project = uniqueProject("conv");
    const registry = new FeatureRegistry(testRepo(project));
    let changelog: ChangelogFixture;
    let servers: ServeProcess[] = [];

    before(async () => {
      changelog = await changelogFixture(registry);
      // One at a time: three tsx start-ups at once are slow on a small machine.
      for (const region of REGIONS)
        servers.push(await startServeProcess({ project, topology, region }));
    });
    after(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      servers = [];
      await changelog.cleanup();
    });

    /** Writes `trips` (the write's identity) for one driver at one event time, through `server`. */
    async function push(
      server: ServeProcess,
      driver: number,
      trips: number,
      eventTsMs: number,
    ): Promise<Pushed> {
      const response = await post(
        server.url,
        {
          push_source_name: "stats@1",
          df: {
            driver_id: [driver],
            rate: [trips / 8],
            trips: [trips],
            label: [`w${trips}`],
            event_timestamp: [eventTsMs],
          },
          to: "online",
          wait: "applied",
        },
        { key: server.key, path: "/push" },
      );
      assert.equal(response.status, 200, response.text);
      return response.json.applied as Pushed;
    }

    async function tripsOf(server: ServeProcess, driver: number): Promise<unknown> {
      const response = await post(
        server.url,
        { features: ["stats@1:trips"], entities: { driver_id: [driver] } },
        { key: server.key },
      );
      assert.equal(response.status, 200, response.text);
      return (response.json.results as { values: unknown[] }[])[1]!.values[0];
    }

    /** Polls every process until it serves `expected`; returns each one's lag, or fails past BOUND_MS. */
    async function converged(driver: number, expected: number, what: string): Promise<number[]> {
      const acked = performance.now();
      return Promise.all(
        servers.map(async (server, p) => {
          let seen: unknown;
          while ((seen = await tripsOf(server, driver)) !== expected) {
            const lag = performance.now() - acked;
            assert.ok(
              lag < BOUND_MS,
              `${what}: process ${REGIONS[p]} still serves trips=${String(seen)} ${lag.toFixed(0)} ms after the write was acknowledged (expected ${expected})`,
            );
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          // A second read, answered from its hot cache now: the value each process holds when the next write comes.
          assert.equal(await tripsOf(server, driver), expected);
          return performance.now() - acked;
        }),
      );
    }

    it("a process that wrote a stale row still hears of a newer write by another (the issue's sequence)", async () => {
      const [a, b] = servers;
      const driver = 7;
      const hour = 3_600_000;
      const ten = Date.UTC(2026, 11, 1, 10);
      assert.deepEqual(await push(a!, driver, 2, ten), { applied: 1, stale: 0, concurrent: 0 });
      await converged(driver, 2, "v2 through A");
      const stale = await push(a!, driver, 1, ten - hour);
      assert.equal(stale.stale, 1);
      await converged(driver, 2, "stale write through A");
      assert.equal((await push(b!, driver, 3, ten + hour)).applied, 1);
      await converged(driver, 3, "v3 through B");
    });

    it("interleaved stale, fresh and concurrent writes from three processes: every process converges after every write", async (t) => {
      const random = seededRandom(23);
      const drivers = [101, 102];
      const base = Date.UTC(2026, 11, 1, 12);
      const top = new Map(drivers.map((d) => [d, { eventTsMs: 0, trips: 0 }]));
      const eventTsOfTrips = new Map<number, number>();
      const lags: number[] = [];
      const counts = { applied: 0, stale: 0, concurrent: 0 };

      // Sequential readers in every process, running through the writes: each read starts
      // after the previous one returned, so per-key monotonic reads say its version never
      // goes down. They also keep reads in flight while writes run.
      let reading = true;
      const regressions: string[] = [];
      const readers = servers.flatMap((server, p) =>
        drivers.map(async (driver) => {
          let last = 0;
          while (reading) {
            const trips = await tripsOf(server, driver);
            if (typeof trips !== "number") {
              await new Promise((resolve) => setTimeout(resolve, 1));
              continue;
            }
            const ts = eventTsOfTrips.get(trips)!;
            if (ts < last) regressions.push(`${REGIONS[p]} driver ${driver}: trips=${trips}`);
            last = Math.max(last, ts);
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
        }),
      );

      try {
        for (let round = 1; round <= ROUNDS; round++) {
          const driver = drivers[Math.floor(random() * drivers.length)]!;
          const server = servers[Math.floor(random() * servers.length)]!;
          const current = top.get(driver)!;
          // Event times are distinct, so the expected winner is plain: the latest event time.
          // Fresh ones on a grid of 1,000 s, stale ones between grid points below the current top.
          const fresh = current.trips === 0 || random() < 0.5;
          const eventTsMs = fresh
            ? base + round * 1_000_000
            : current.eventTsMs - 1_000 * (1 + Math.floor(random() * 500)) - round;
          eventTsOfTrips.set(round, eventTsMs);
          const outcome = await push(server, driver, round, eventTsMs);
          assert.equal(outcome.applied, fresh ? 1 : 0, `round ${round}`);
          counts.applied += outcome.applied;
          counts.stale += outcome.stale;
          counts.concurrent += outcome.concurrent;
          if (fresh) top.set(driver, { eventTsMs, trips: round });
          lags.push(
            ...(await converged(
              driver,
              top.get(driver)!.trips,
              `round ${round} (${fresh ? "fresh" : "stale"} write of driver ${driver} through ${server.url})`,
            )),
          );
        }
      } finally {
        reading = false;
        await Promise.all(readers);
      }
      assert.deepEqual(regressions, [], "no process served an older version after a newer one");
      assert.ok(counts.stale >= 10 && counts.applied >= 10, JSON.stringify(counts));
      assert.ok(counts.concurrent > 0, "some writes were concurrent across regions");
      lags.sort((x, y) => x - y);
      t.diagnostic(
        `${ROUNDS} writes (${JSON.stringify(counts)}), ${servers.length} processes: convergence after the ack p50 ${percentile(lags, 0.5).toFixed(1)} ms, p99 ${percentile(lags, 0.99).toFixed(1)} ms, max ${lags.at(-1)!.toFixed(1)} ms`,
      );
    });
  });
}

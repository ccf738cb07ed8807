// Reconciliation between two regions, simulated without MirrorMaker: ONE changelog topic and
// two consumers in different groups ("east" on a standalone Redis, "west" on a 3-node cluster,
// both private to this test so that every SCAN sees only this test's keys), each applying into
// its own Redis. Regions are made to diverge by writing one of them directly
// through OnlineStore (bypassing Kafka); reconcile must find exactly those keys, re-publish
// their stored winners, and the regions' checksums must become equal.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import azureFunctions from "@azure/functions";
import type { ScheduledEvent } from "aws-lambda";
import { Cluster, Redis } from "ioredis";
import { Kafka, logLevel } from "kafkajs";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { createTimerHandler } from "../../functions/reconcile/azure-timer.js";
import { loadReconcileConfig } from "../../functions/reconcile/config.js";
import { exitCodeOf, runReconcileJob } from "../../functions/reconcile/job.js";
import { createLambdaHandler } from "../../functions/reconcile/lambda.js";
import { type ChangelogWriter } from "../../shared/changelog/index.js";
import { entityRedisKey } from "../../shared/key-codec.js";
import {
  diffChecksums,
  OnlineStore,
  regionChecksum,
  type RedisClient,
  type WriteRow,
} from "../../shared/online-store/index.js";
import {
  openKafkaPublisher,
  readChangelogLatest,
  reconcileRegions,
  type ReconcileOptions,
} from "../../shared/reconcile/index.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { applyRegistry } from "../../shared/registry-log/index.js";
import { encodeVersion, type Version } from "../../shared/versions/index.js";
import { changelogFixture, type ChangelogFixture } from "../support/changelog.js";
import { startCluster, startStandalone } from "../support/redis-process.js";
import { testRepo, uniqueProject } from "../support/store.js";

interface PrivateRegion {
  store: OnlineStore;
  client: RedisClient;
  /** The target the CLI and adapters are given. */
  target: string;
  close: () => Promise<void>;
}

async function privateStandalone(registry: FeatureRegistry): Promise<PrivateRegion> {
  const server = await startStandalone();
  const client = new Redis(server.url);
  const store = await OnlineStore.open({ client, registry, hotCache: false });
  return {
    store,
    client,
    target: server.url,
    close: async () => {
      await store.close();
      client.disconnect();
      await server.stop();
    },
  };
}

async function privateCluster(registry: FeatureRegistry): Promise<PrivateRegion> {
  const cluster = await startCluster();
  const nodes = cluster.nodes.map((n) => ({ host: "127.0.0.1", port: n.port }));
  const client = new Cluster(nodes);
  const store = await OnlineStore.open({ client, registry, hotCache: false });
  return {
    store,
    client,
    target: `cluster://${nodes.map((n) => `${n.host}:${n.port}`).join(",")}`,
    close: async () => {
      await store.close();
      client.disconnect();
      await cluster.stop();
    },
  };
}

const { InvocationContext } = azureFunctions;
const DRIVERS = 300;
const BASE_MS = Date.now() - 3_600_000;

function version(eventOffsetMs: number, origin = "east"): Version {
  const eventTsMs = BASE_MS + eventOffsetMs;
  return { eventTsMs, epoch: 0, hlc: { wallMs: eventTsMs, counter: 0 }, originRegion: origin };
}

function statsRow(driver: number, at: number, origin = "east"): WriteRow {
  return {
    view: "stats@1",
    entity: { driver_id: driver },
    values: { rate: driver / 7, trips: at, label: `d${driver}@${at}` },
    version: version(at, origin),
  };
}

describe("reconcile: two regions over one changelog", () => {
  const project = uniqueProject("reconcile");
  const registry = new FeatureRegistry(testRepo(project));
  const driverKey = (id: number) => entityRedisKey(project, "driver", `i${id}`);
  let fixture: ChangelogFixture;
  let east: PrivateRegion;
  let west: PrivateRegion;
  let writer: ChangelogWriter;

  const options = (extra: Partial<ReconcileOptions> = {}): ReconcileOptions => ({
    registry,
    regions: [
      { name: "east", client: east.client },
      { name: "west", client: west.client },
    ],
    publisher: () => openKafkaPublisher(fixture.kafka, fixture.topic),
    verifyTimeoutMs: 30_000,
    ...extra,
  });

  const caughtUp = async () => {
    await fixture.waitCaughtUp("east", 30_000);
    await fixture.waitCaughtUp("west", 30_000);
  };

  before(async () => {
    fixture = await changelogFixture(registry);
    east = await privateStandalone(registry);
    west = await privateCluster(registry);
    await fixture.startConsumer(east.store, "east");
    await fixture.startConsumer(west.store, "west");
    writer = await fixture.openWriter();
    const rows: WriteRow[] = [];
    for (let d = 0; d < DRIVERS; d++) rows.push(statsRow(d, 1_000));
    for (let d = 0; d < DRIVERS; d += 3) {
      rows.push({
        view: "stats@2",
        entity: { driver_id: d },
        values: { rate: 1.5, trips: d, label: "two", tags: ["a", "b"] },
        version: version(1_000),
      });
    }
    rows.push({
      view: "rider_profile",
      entity: { rider_id: "r:1{x}", city: "Zürich" },
      values: { score: 0.5, vip: true, blob: null },
      version: version(1_000),
    });
    await writer.write(rows, { wait: "acked" });
    await caughtUp();
  });

  after(async () => {
    await fixture?.cleanup();
    await east?.close();
    await west?.close();
  });

  it("starts from identical regions: nothing divergent, nothing published", async () => {
    const report = await reconcileRegions(
      options({ publisher: () => Promise.reject(new Error("must not be called")) }),
    );
    assert.equal(report.outcome, "converged");
    assert.equal(report.divergent, 0);
    assert.equal(report.republished, 0);
    // Every row of every view counted: 300 stats@1 rows, 100 stats@2, 1 rider.
    assert.equal(report.keysCompared, DRIVERS + DRIVERS / 3 + 1);
  });

  it("finds exactly the keys written around the changelog, re-publishes their winners, and the regions converge", async () => {
    // East ahead on driver 1 and holding driver 9001 alone; west ahead on driver 2 (an older
    // version there first) and alone with driver 9002 in stats@2.
    await east.store.write([statsRow(1, 5_000), statsRow(9_001, 2_000)]);
    await west.store.write([
      statsRow(2, 7_000, "west"),
      {
        view: "stats@2",
        entity: { driver_id: 9_002 },
        values: { rate: 2, trips: 2, label: "w", tags: [] },
        version: version(3_000, "west"),
      },
    ]);
    assert.notDeepEqual(
      diffChecksums(
        await regionChecksum(east.client, registry),
        await regionChecksum(west.client, registry),
      ),
      [],
    );

    const report = await reconcileRegions(options());

    assert.equal(report.outcome, "repaired");
    assert.equal(report.divergent, 4);
    assert.equal(report.republished, 4);
    assert.deepEqual(report.verified, { converged: 4, unconverged: 0 });
    const repaired = report.repaired.map((r) => `${r.view} ${r.key} ${r.from} ${r.version}`).sort();
    assert.deepEqual(
      repaired,
      [
        `stats@1 ${driverKey(1)} east ${encodeVersion(version(5_000))}`,
        `stats@1 ${driverKey(2)} west ${encodeVersion(version(7_000, "west"))}`,
        `stats@1 ${driverKey(9_001)} east ${encodeVersion(version(2_000))}`,
        `stats@2 ${driverKey(9_002)} west ${encodeVersion(version(3_000, "west"))}`,
      ].sort(),
    );
    const onlyEast = report.repaired.find((r) => r.key === driverKey(9_001))!;
    assert.deepEqual(onlyEast.stale, { west: "none" });

    await caughtUp();
    assert.deepEqual(
      diffChecksums(
        await regionChecksum(east.client, registry),
        await regionChecksum(west.client, registry),
      ),
      [],
    );
    const again = await reconcileRegions(options());
    assert.equal(again.outcome, "converged");
    assert.equal(again.divergent, 0);
  });

  it("exits 1 when the changelog is unreachable, and repairs on the next run", async () => {
    await east.store.write([statsRow(3, 9_000)]);
    const unreachable = new Kafka({
      clientId: "reconcile-test-unreachable",
      brokers: ["127.0.0.1:1"],
      logLevel: logLevel.NOTHING,
      retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 },
      connectionTimeout: 300,
    });
    const failed = await reconcileRegions(
      options({ publisher: () => openKafkaPublisher(unreachable, fixture.topic) }),
    );
    assert.equal(failed.outcome, "unrepaired");
    assert.equal(failed.divergent, 1);
    assert.equal(failed.republished, 0);
    assert.equal(failed.unrepairedCount, 1);
    assert.equal(failed.unrepaired[0]!.key, driverKey(3));
    assert.match(failed.unrepaired[0]!.reason, /changelog did not acknowledge/);
    assert.equal(exitCodeOf(failed), 1);

    const fixed = await reconcileRegions(options());
    assert.equal(fixed.outcome, "repaired");
    assert.equal(fixed.republished, 1);
  });

  it("closes the compaction gap: a late older record that is last in the log gets the winner re-published after it", async () => {
    await caughtUp();
    // The newer version first, then a late older one: both regions keep the newer (CAS), but
    // the log's last record of the key, the one compaction keeps, is the older.
    await writer.write([statsRow(10, 20_000)], { wait: "acked" });
    await writer.write([statsRow(10, 15_000)], { wait: "acked" });
    await caughtUp();
    const before = await readChangelogLatest(fixture.kafka, fixture.topic, registry);
    assert.equal(before.byView.get("stats@1")!.get(driverKey(10)), encodeVersion(version(15_000)));

    const plain = await reconcileRegions(options());
    assert.equal(plain.outcome, "converged", "the regions agree: only the log is behind");

    const report = await reconcileRegions(
      options({
        changelogLatest: () => readChangelogLatest(fixture.kafka, fixture.topic, registry),
      }),
    );
    assert.equal(report.divergent, 0);
    assert.equal(report.changelogShadowed, 1);
    assert.equal(report.repaired[0]!.key, driverKey(10));
    assert.equal(report.repaired[0]!.reason, "changelog-shadowed");
    assert.equal(report.outcome, "repaired");

    const afterRepair = await readChangelogLatest(fixture.kafka, fixture.topic, registry);
    assert.equal(
      afterRepair.byView.get("stats@1")!.get(driverKey(10)),
      encodeVersion(version(20_000)),
    );
    const again = await reconcileRegions(
      options({
        changelogLatest: () => readChangelogLatest(fixture.kafka, fixture.topic, registry),
      }),
    );
    assert.equal(again.changelogShadowed, 0);
    assert.equal(again.outcome, "converged");
  });

  describe("entry points", () => {
    const endpoints = resolveEndpoints();
    const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
      ...process.env,
      STRATA_REPO: "test/support/test-repo-module.ts",
      STRATA_TEST_PROJECT: project,
      STRATA_RECONCILE_REGIONS: `east=${east.target};west=${west.target}`,
      KAFKA_BROKERS: endpoints.kafka.address.join(","),
      ...extra,
    });
    // Asynchronously: this process runs both regions' consumers, which must keep applying
    // (and heartbeating) while the CLI waits for them.
    const cli = (args: string[], extra: Record<string, string> = {}) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ["--import", "tsx", "functions/reconcile/main.ts", ...args],
          { env: env(extra), encoding: "utf8", timeout: 120_000 },
          (error, stdout, stderr) =>
            resolve({
              status: error ? (typeof error.code === "number" ? error.code : null) : 0,
              stdout,
              stderr,
            }),
        );
      });

    it("the Lambda handler runs on an EventBridge scheduled event and fails the invocation on unrepaired divergence", async () => {
      process.env.STRATA_TEST_PROJECT = project;
      const event: ScheduledEvent = {
        version: "0",
        id: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        source: "aws.events",
        account: "123456789012",
        time: "2026-12-06T04:00:00Z",
        region: "us-east-1",
        resources: ["arn:aws:events:us-east-1:123456789012:rule/strata-reconcile"],
        detail: {},
      };
      const handler = createLambdaHandler(() => runReconcileJob(loadReconcileConfig(env())));
      const summary = await handler(event);
      assert.equal(summary.outcome, "converged");
      assert.equal(summary.keysCompared, DRIVERS + DRIVERS / 3 + 1 + 2);

      await west.store.write([statsRow(4, 30_000, "west")]);
      const failing = createLambdaHandler(() =>
        runReconcileJob(loadReconcileConfig(env({ STRATA_RECONCILE_DRY_RUN: "on" }))),
      );
      await assert.rejects(failing(event), /1 divergent keys unrepaired|unrepaired/);
    });

    it("the Azure timer handler runs on a Timer and repairs", async () => {
      const timer = {
        isPastDue: false,
        schedule: { adjustForDST: true },
        scheduleStatus: {
          last: "2026-12-06T03:45:00.0000000+00:00",
          next: "2026-12-06T04:00:00.0000000+00:00",
          lastUpdated: "2026-12-06T03:45:00.0000000+00:00",
        },
      };
      const logged: string[] = [];
      const context = new InvocationContext({
        invocationId: "a1b2c3",
        functionName: "reconcile",
        logHandler: (_level, ...args) => logged.push(args.map(String).join(" ")),
      });
      const handler = createTimerHandler(() =>
        runReconcileJob(loadReconcileConfig(env({ STRATA_RECONCILE_VERIFY_MS: "30000" }))),
      );
      await handler(timer, context);
      const line = JSON.parse(logged.find((l) => l.includes('"reconcile"'))!) as {
        outcome: string;
        republished: number;
      };
      assert.equal(line.outcome, "repaired");
      assert.equal(line.republished, 1);
    });

    it("the CLI: --help exits 0, a bad flag 2, --dry-run on divergence 1 with a JSON report, a repair 0", async () => {
      assert.equal((await cli(["--help"])).status, 0);
      assert.equal((await cli(["--bogus"])).status, 2);
      assert.equal(
        (await cli([], { STRATA_RECONCILE_REGIONS: "east=redis://127.0.0.1:1" })).status,
        2,
      );

      await east.store.write([statsRow(5, 40_000)]);
      const dry = await cli(["--dry-run", "--json"]);
      assert.equal(dry.status, 1, dry.stderr);
      const report = JSON.parse(dry.stdout) as { divergent: number; repaired: { key: string }[] };
      assert.equal(report.divergent, 1);
      assert.equal(report.repaired[0]!.key, driverKey(5));

      const unreachable = await cli([], { KAFKA_BROKERS: "127.0.0.1:1" });
      assert.equal(unreachable.status, 1, unreachable.stdout + unreachable.stderr);
      assert.match(unreachable.stdout, /NOT repaired/);

      const repair = await cli(["--verify", "30000"]);
      assert.equal(repair.status, 0, repair.stdout + repair.stderr);
      assert.match(repair.stdout, /repaired: 1 divergent/);
    });

    it("the CLI without STRATA_REPO reads STRATA_PROJECT's published registry, as a deployed job does", async () => {
      const published = { STRATA_REPO: "", STRATA_PROJECT: project };
      const unpublished = await cli(["--dry-run", "--json"], published);
      assert.notEqual(unpublished.status, 0, "nothing is published for the project yet");
      assert.match(unpublished.stdout + unpublished.stderr, /STRATA_E_NO_REGISTRY/);

      const applied = await applyRegistry({
        kafka: fixture.kafka,
        definition: testRepo(project),
        appliedBy: "reconcile-test",
      });
      assert.equal(applied.published, true);
      const run = await cli(["--dry-run", "--json"], published);
      assert.equal(run.status, 0, run.stdout + run.stderr);
      const report = JSON.parse(run.stdout) as { keysCompared: number; divergent: number };
      assert.equal(report.divergent, 0, "the regions converged in the test before");
      assert.ok(report.keysCompared > 0, "it compared the published registry's views");
    });
  });
});

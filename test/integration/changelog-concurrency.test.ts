// Concurrent cross-region writes as the regional consumers count them, with writes from three
// regions on the real Kafka: each region has its own Redis and consumer group, and a writer
// that carries the region's seen clock (shared/online-store/seen-clock.ts). One changelog topic
// stands in for each region's topic and its mirrors: every region applies every record.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { ChangelogWriter } from "../../shared/changelog/index.js";
import { OnlineStore, type WriteRow } from "../../shared/online-store/index.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { HybridLogicalClock } from "../../shared/versions/index.js";
import { changelogFixture, type ChangelogFixture } from "../support/changelog.js";
import { startStandalone } from "../support/redis-process.js";
import { openStore, testRepo, uniqueProject, type OpenedStore } from "../support/store.js";

const REGIONS = ["eu-west-1", "us-east-1", "ap-south-1"] as const;
type Region = (typeof REGIONS)[number];

interface RegionUnderTest {
  store: OnlineStore;
  writer: ChangelogWriter;
  hlc: HybridLogicalClock;
  concurrent: number;
}

describe("concurrent writes counted by the regional consumers (three regions)", () => {
  const registry = new FeatureRegistry(testRepo(uniqueProject("regions")));
  let changelog: ChangelogFixture;
  const regions = new Map<Region, RegionUnderTest>();
  const closers: (() => Promise<unknown>)[] = [];

  before(async () => {
    changelog = await changelogFixture(registry);
    // Three Redis servers: the stack's standalone and cluster, and one of the test's own.
    const own = await startStandalone();
    const ownClient = new Redis(own.url);
    closers.push(async () => {
      ownClient.disconnect();
      await own.stop();
    });
    const stores: OnlineStore[] = [];
    for (const topology of ["standalone", "cluster"] as const) {
      const opened: OpenedStore = await openStore(topology, registry, { hotCache: false });
      closers.push(() => opened.close());
      stores.push(opened.store);
    }
    stores.push(await OnlineStore.open({ client: ownClient, registry, hotCache: false }));
    for (const [i, name] of REGIONS.entries()) {
      const store = stores[i]!;
      // The seen clock is read when the test says (refreshSeenClock), never in the background,
      // so what each write knew is exactly what the test arranged.
      const writer = await ChangelogWriter.open({
        kafka: changelog.kafka,
        registry,
        store,
        seenMaxAgeMs: Number.POSITIVE_INFINITY,
      });
      closers.push(() => writer.close(5_000));
      const region: RegionUnderTest = {
        store,
        writer,
        hlc: new HybridLogicalClock(),
        concurrent: 0,
      };
      regions.set(name, region);
      await changelog.startConsumer(store, name, {
        applied: (outcome) => {
          for (const counts of outcome.byView.values()) region.concurrent += counts.concurrent;
        },
      });
    }
  });
  after(async () => {
    await changelog.cleanup();
    for (const close of closers.reverse()) await close().catch(() => undefined);
  });

  const write = async (from: Region, driver: number, rate: number) => {
    const region = regions.get(from)!;
    const hlc = region.hlc.now();
    const row: WriteRow = {
      view: "stats@1",
      entity: { driver_id: driver },
      values: { rate, trips: rate, label: from },
      version: { eventTsMs: hlc.wallMs, epoch: 0, hlc, originRegion: from },
    };
    await region.writer.write([row], { wait: "acked" });
  };
  const allCaughtUp = () => Promise.all(REGIONS.map((r) => changelog.waitCaughtUp(r, 60_000)));
  const counts = () => REGIONS.map((r) => regions.get(r)!.concurrent);
  /** The region's writer reads what its region has applied so far. */
  const catchUp = (region: Region) => regions.get(region)!.writer.refreshSeenClock();

  it("does not count a sequential chain of writes across regions", async () => {
    const driver = 1;
    await write("eu-west-1", driver, 1);
    await allCaughtUp();
    await catchUp("us-east-1");
    await write("us-east-1", driver, 2);
    await allCaughtUp();
    await catchUp("ap-south-1");
    await write("ap-south-1", driver, 3);
    await allCaughtUp();
    // Back to the first region, now that three regions wrote the key: with writers that sent
    // only their own region's clock, every write from here on counted as concurrent.
    await catchUp("eu-west-1");
    await write("eu-west-1", driver, 4);
    await allCaughtUp();
    await catchUp("us-east-1");
    await write("us-east-1", driver, 5);
    await allCaughtUp();
    assert.deepEqual(counts(), [0, 0, 0]);
    for (const region of REGIONS) {
      const read = await regions.get(region)!.store.read([{ driver_id: driver }], ["stats@1:rate"]);
      assert.equal(read.rows[0]!.values[0], 5, region);
    }
  });

  it("counts two regions writing a key without having seen each other's write, once in every region", async () => {
    const driver = 2;
    await write("ap-south-1", driver, 1);
    await allCaughtUp();
    for (const region of REGIONS) await catchUp(region);
    const before = counts();
    // eu-west-1 and us-east-1 each know ap-south-1's write, not each other's.
    await write("eu-west-1", driver, 2);
    await write("us-east-1", driver, 3);
    await allCaughtUp();
    assert.deepEqual(
      counts().map((n, i) => n - before[i]!),
      [1, 1, 1],
    );
    // And a write that had seen both is not concurrent.
    await catchUp("ap-south-1");
    await write("ap-south-1", driver, 4);
    await allCaughtUp();
    assert.deepEqual(
      counts().map((n, i) => n - before[i]!),
      [1, 1, 1],
    );
  });
});

// A region's consumer applying its own changelog and its peers' replicated copies, on the real
// Kafka and Redis: region b with peers a and c. Records reach `a.strata.<p>.changelog` and
// `c.strata.<p>.changelog` exactly as MirrorMaker 2 writes them (the writer's bytes, the same
// key, partition and CreateTime), produced here since this test needs no MirrorMaker.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import kafkajs, { type Producer } from "kafkajs";
import { Redis } from "ioredis";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import {
  changelogTopic,
  changelogTopicSettings,
  consumerGroupId,
  DEAD_LETTER_HEADERS,
  encodeChangelogRecord,
  replayChangelog,
  replicatedChangelogTopic,
  waitUntilCommitted,
} from "../../shared/changelog/index.js";
import { keyPartition } from "../../shared/changelog/partitioner.js";
import {
  diffChecksums,
  OnlineStore,
  regionChecksum,
  type WriteRow,
} from "../../shared/online-store/index.js";
import { validateWrites } from "../../shared/online-store/write-path.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import {
  changelogFixture,
  checksumsOf,
  latestPerDriver,
  TEST_TOPICS,
  type ChangelogFixture,
} from "../support/changelog.js";
import { startIngestProcess, type IngestProcess } from "../support/ingest-process.js";
import { startStandalone } from "../support/redis-process.js";
import { seededRandom } from "../support/seeded-random.js";
import { testRepo, uniqueProject, waitFor } from "../support/store.js";

const REGION = "b";
const PEERS = ["a", "c"];
const DRIVERS = 300;
const VERSIONS = 4;

function row(driver: number, eventTsMs: number, counter: number, origin: string): WriteRow {
  return {
    view: "stats@1",
    entity: { driver_id: driver },
    values: { rate: counter / 10, trips: counter, label: `${origin}${eventTsMs}.${counter}` },
    version: { eventTsMs, epoch: 0, hlc: { wallMs: eventTsMs, counter }, originRegion: origin },
  };
}

describe("a consumer applying its own and its peers' replicated changelogs", () => {
  const project = uniqueProject("peers");
  const registry = new FeatureRegistry(testRepo(project));
  const topicOf: Record<string, string> = {
    [REGION]: changelogTopic(project),
    ...Object.fromEntries(PEERS.map((p) => [p, replicatedChangelogTopic(project, p)])),
  };
  const groupId = consumerGroupId(project, REGION);
  let changelog: ChangelogFixture;
  let producer: Producer;
  let consumer: IngestProcess;
  const redis = new Redis(resolveEndpoints().redis.address);
  let store: OnlineStore;
  /** Every valid row produced into any of the three topics, for the state they converge to. */
  const produced: WriteRow[] = [];

  /** Produces rows into `region`'s topic here as its writer encodes them and MM2 copies them. */
  const produce = async (region: string, rows: WriteRow[], producedAtMs = Date.now()) => {
    produced.push(...rows);
    const records = validateWrites(registry, rows).map(encodeChangelogRecord);
    await producer.send({
      topic: topicOf[region]!,
      acks: -1,
      messages: records.map(({ key, value }) => ({
        key,
        value,
        // MM2 keeps the source partition (the writer's murmur2 of the key) and the CreateTime.
        partition: keyPartition(key, TEST_TOPICS.partitions),
        timestamp: String(producedAtMs),
      })),
    });
  };
  const caughtUp = () =>
    Promise.all(
      Object.values(topicOf).map((topic) =>
        waitUntilCommitted(changelog.admin, groupId, topic, 60_000, 50),
      ),
    );
  const stored = async (driver: number) =>
    (await store.read([{ driver_id: driver }], ["stats@1:label"])).rows[0]!.values[0];

  before(async () => {
    changelog = await changelogFixture(registry);
    // Replication already created a's copy (as MM2 does when it first sees the source); c's
    // copy does not exist yet: the consumer must neither crash nor stall on it.
    await changelog.admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: topicOf.a!,
          numPartitions: TEST_TOPICS.partitions,
          replicationFactor: 1,
          configEntries: Object.entries(changelogTopicSettings(TEST_TOPICS)).map(
            ([name, value]) => ({ name, value }),
          ),
        },
      ],
    });
    assert.ok(!(await changelog.admin.listTopics()).includes(topicOf.c!));
    producer = changelog.kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    store = await OnlineStore.open({ client: redis, registry, hotCache: false });
    consumer = startIngestProcess({
      project,
      region: REGION,
      peers: PEERS,
      env: { STRATA_INGEST_CHUNK: "100" },
    });
  });
  after(async () => {
    await consumer.stop();
    await producer.disconnect();
    await changelog.admin
      .deleteTopics({ topics: PEERS.map((p) => topicOf[p]!) })
      .catch(() => undefined);
    await changelog.cleanup();
    await store.close();
    redis.disconnect();
  });

  it("creates a missing replicated topic like the local changelog, then consumes it", async () => {
    await waitFor(
      async () => (await changelog.admin.listTopics()).includes(topicOf.c!),
      30_000,
      `the consumer creates ${topicOf.c}`,
    );
    const { topics } = await changelog.admin.fetchTopicMetadata({ topics: [topicOf.c!] });
    assert.equal(topics[0]!.partitions.length, TEST_TOPICS.partitions, "MM2 keeps partitions");
    const described = await changelog.admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topicOf.c! }],
    });
    const settings = Object.fromEntries(
      described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]),
    );
    assert.equal(settings["cleanup.policy"], "compact");
    assert.equal(settings["message.timestamp.type"], "CreateTime");
    assert.equal(settings["min.compaction.lag.ms"], String(TEST_TOPICS.reconciliationWindowMs));

    // What replication writes into the copy the consumer created is applied.
    const now = Date.now();
    await produce("c", [row(100_000, now, 1, "c")]);
    await waitFor(async () => (await stored(100_000)) === `c${now}.1`, 60_000, "c's row applied");
    assert.equal(consumer.child.exitCode, null, consumer.output());
  });

  it("converges every key to its highest version whatever topic and order its versions came in", async () => {
    const random = seededRandom(25);
    const rows: WriteRow[] = [];
    const base = Date.now() - 60_000;
    for (let driver = 0; driver < DRIVERS; driver++) {
      for (let v = 0; v < VERSIONS; v++) {
        const origin = ["a", "b", "c"][Math.floor(random() * 3)]!;
        // Ties on event time across regions: the HLC and then the origin decide.
        rows.push(row(driver, base + Math.floor(random() * 3) * 1_000, v, origin));
      }
    }
    rows.sort(() => random() - 0.5);
    // Each row in its origin region's topic, as every region's writer produces locally.
    for (const region of [REGION, ...PEERS]) {
      await produce(
        region,
        rows.filter((r) => r.version.originRegion === region),
      );
    }
    await caughtUp();
    const expected = await checksumsOf(registry, latestPerDriver(produced));
    const actual = await regionChecksum(redis, registry);
    assert.equal(actual.find((c) => c.view === "stats@1")!.rows, DRIVERS + 1);
    assert.deepEqual(diffChecksums(actual, expected), []);
  });

  it("keeps the newer of an out-of-order pair across two replicated topics, in either order", async () => {
    const t = Date.now() - 10_000;
    // Driver 200_001: the newer version arrives first (from a), the older one later (from c).
    await produce("a", [row(200_001, t + 1_000, 0, "a")]);
    await caughtUp();
    await produce("c", [row(200_001, t, 5, "c")]);
    // Driver 200_002: the older first (local), the newer later (from c).
    await produce(REGION, [row(200_002, t, 0, REGION)]);
    await caughtUp();
    assert.equal(await stored(200_002), `${REGION}${t}.0`);
    await produce("c", [row(200_002, t + 1_000, 0, "c")]);
    await caughtUp();
    assert.equal(await stored(200_001), `a${t + 1_000}.0`, "the late older record is stale");
    assert.equal(await stored(200_002), `c${t + 1_000}.0`, "the late newer record wins");
  });

  it("commits its group's offsets per source topic, every record of all three", async () => {
    await caughtUp();
    const offsets = await changelog.admin.fetchOffsets({
      groupId,
      topics: Object.values(topicOf),
    });
    for (const topic of Object.values(topicOf)) {
      const ends = await changelog.admin.fetchTopicOffsets(topic);
      const committed = offsets.find((o) => o.topic === topic)!.partitions;
      const total = ends.reduce((sum, e) => sum + Number(e.high), 0);
      assert.ok(total > 0, `${topic} has records`);
      assert.deepEqual(
        committed.map((p) => [p.partition, Number(p.offset)]).sort(),
        ends.map((e) => [e.partition, Number(e.high)]).sort(),
        `${topic}: committed up to the end`,
      );
    }
  });

  it("dead-letters a poison record of a replicated topic into this region's dlq, naming its source", async () => {
    const key = "stats@1/not-an-entity";
    await producer.send({
      topic: topicOf.a!,
      acks: -1,
      messages: [{ key, value: "{not json", partition: 0, timestamp: String(Date.now()) }],
    });
    await caughtUp();
    const reader = changelog.kafka.consumer({ groupId: `dlq-reader-${project}` });
    await reader.connect();
    await reader.subscribe({ topic: changelog.dlq, fromBeginning: true });
    const headers = await new Promise<Record<string, string>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no dead letter")), 30_000);
      void reader.run({
        eachMessage: ({ message }) => {
          if (message.key?.toString() === key) {
            clearTimeout(timer);
            resolve(
              Object.fromEntries(
                Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
              ),
            );
          }
          return Promise.resolve();
        },
      });
    });
    await reader.disconnect();
    assert.equal(headers[DEAD_LETTER_HEADERS.topic], topicOf.a);
    assert.equal(headers[DEAD_LETTER_HEADERS.partition], "0");
  });

  it("exports lag per source region: records, and seconds from the preserved produce time", async () => {
    // Produced (by a's writer) 30 s before it reaches b: replication's delay, kept by MM2.
    const now = Date.now();
    await produce("a", [row(300_000, now - 40_000, 0, "a")], now - 30_000);
    await produce(REGION, [row(300_001, now, 0, REGION)]);
    await caughtUp();
    const port = consumer.metricsPort();
    assert.ok(port, consumer.output());
    let body = "";
    // The lag poll (200 ms) reads committed offsets of every source topic, c's included.
    await waitFor(
      async () => {
        body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return PEERS.concat(REGION).every((r) =>
          body.includes(`strata_ingest_lag_records{source_region="${r}",partition="0"} 0`),
        );
      },
      10_000,
      "lag records of every source region at 0",
    );
    const sample = (line: string) => {
      const found = body.split("\n").find((l) => l.startsWith(line + " "));
      assert.ok(found, `${line} in\n${body}`);
      return Number(found.slice(line.length + 1));
    };
    for (const r of [REGION, ...PEERS]) {
      assert.ok(
        sample(`strata_ingest_apply_lag_seconds_count{source_region="${r}",basis="produce"}`) > 0,
      );
      assert.ok(
        sample(`strata_ingest_apply_lag_seconds_count{source_region="${r}",basis="event"}`) > 0,
      );
    }
    // a's slowest chunk waited 30 s since its produce time and 40 s since its event time.
    assert.equal(
      sample('strata_ingest_apply_lag_seconds_bucket{le="10",source_region="a",basis="produce"}') <
        sample('strata_ingest_apply_lag_seconds_count{source_region="a",basis="produce"}'),
      true,
      "a chunk of a lagged by more than 10 s",
    );
    const labels = new Set([...body.matchAll(/source_region="([^"]*)"/g)].map((m) => m[1]));
    assert.deepEqual([...labels].sort(), ["a", "b", "c"], "no other source_region value");
  });

  it("rebuilds the region by replaying its own and its peers' changelogs", async () => {
    await caughtUp();
    const rebuilt = await startStandalone();
    const client = new Redis(rebuilt.url);
    try {
      const target = await OnlineStore.open({ client, registry, hotCache: false });
      const report = await replayChangelog({
        kafka: changelog.kafka,
        store: target,
        peerRegions: [...PEERS, "z"],
      });
      assert.deepEqual(report.missingTopics, [replicatedChangelogTopic(project, "z")]);
      assert.ok(report.rejectedSamples.some((r) => r.topic === topicOf.a));
      const live = await regionChecksum(redis, registry);
      assert.equal(live.find((c) => c.view === "stats@1")!.rows, DRIVERS + 5);
      assert.deepEqual(diffChecksums(await regionChecksum(client, registry), live), []);
      await target.close();
    } finally {
      client.disconnect();
      await rebuilt.stop();
    }
  });
});

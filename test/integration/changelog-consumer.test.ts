import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Partitioners } from "kafkajs";
import { Redis } from "ioredis";
import {
  changelogTopicSettings,
  DEAD_LETTER_HEADERS,
  ensureChangelogTopics,
  replayChangelog,
  type ChangelogWriter,
} from "../../shared/changelog/index.js";
import { isStrataError } from "../../shared/errors.js";
import {
  connectFailFast,
  diffChecksums,
  OnlineStore,
  regionChecksum,
  type WriteRow,
} from "../../shared/online-store/index.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import {
  changelogFixture,
  checksumsOf,
  latestPerDriver,
  TEST_TOPICS,
  type ChangelogFixture,
} from "../support/changelog.js";
import { startStandalone } from "../support/redis-process.js";
import { seededRandom } from "../support/seeded-random.js";
import { openStore, testRepo, uniqueProject, type OpenedStore } from "../support/store.js";

const DRIVERS = 200;
const VERSIONS_PER_DRIVER = 6;

/** Rows with several versions per driver, including ties on event time, in a seeded random order. */
function shuffledHistory(seed: number): WriteRow[] {
  const random = seededRandom(seed);
  const rows: WriteRow[] = [];
  for (let driver = 0; driver < DRIVERS; driver++) {
    for (let v = 0; v < VERSIONS_PER_DRIVER; v++) {
      const eventTsMs = Date.now() - 60_000 + Math.floor(random() * 3) * 1_000;
      rows.push({
        view: "stats@1",
        entity: { driver_id: driver },
        values: { rate: random(), trips: v, label: `v${v}` },
        version: {
          eventTsMs,
          epoch: 0,
          hlc: { wallMs: eventTsMs, counter: Math.floor(random() * 1_000) },
          originRegion: random() < 0.5 ? "eu-west-1" : "us-east-1",
        },
      });
    }
  }
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  return rows;
}

async function writeAll(writer: ChangelogWriter, rows: readonly WriteRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 250) {
    await writer.write(rows.slice(i, i + 250), { wait: "acked" });
  }
}

describe("the regional consumer on the real Kafka and Redis Cluster", () => {
  const registry = new FeatureRegistry(testRepo(uniqueProject("ingest")));
  const region = "test-ingest";
  let changelog: ChangelogFixture;
  let live: OpenedStore;
  let writer: ChangelogWriter;
  const totals = { applied: 0, stale: 0, rejected: 0 };
  const history = shuffledHistory(7);

  before(async () => {
    changelog = await changelogFixture(registry);
    live = await openStore("cluster", registry, { hotCache: false });
    writer = await changelog.openWriter();
    await changelog.startConsumer(live.store, region, {
      applied: (outcome) => {
        for (const counts of outcome.byView.values()) {
          totals.applied += counts.applied;
          totals.stale += counts.stale;
        }
        totals.rejected += outcome.rejected.length;
      },
    });
  });
  after(async () => {
    await changelog.cleanup();
    await live.close();
  });

  it("created compacted topics, and creating them again is a no-op", async () => {
    const described = await changelog.admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        {
          type: 2,
          name: changelog.topic,
          configNames: ["cleanup.policy", "min.compaction.lag.ms"],
        },
      ],
    });
    const entries = Object.fromEntries(
      described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]),
    );
    assert.deepEqual(entries, {
      "cleanup.policy": "compact",
      "min.compaction.lag.ms": changelogTopicSettings(TEST_TOPICS)["min.compaction.lag.ms"],
    });
    const again = await ensureChangelogTopics(changelog.admin, registry.project, TEST_TOPICS);
    assert.deepEqual(again.created, []);
  });

  it("refuses a changelog topic that deletes records by age", async () => {
    const other = uniqueProject("deleting");
    const topic = `strata.${other}.changelog`;
    await changelog.admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 1,
          replicationFactor: 1,
          configEntries: [{ name: "cleanup.policy", value: "delete" }],
        },
      ],
      waitForLeaders: true,
    });
    try {
      await assert.rejects(
        ensureChangelogTopics(changelog.admin, other, TEST_TOPICS),
        (e: unknown) => isStrataError(e, "STRATA_E_BAD_TOPIC_CONFIG"),
      );
    } finally {
      await changelog.admin.deleteTopics({ topics: [topic, `strata.${other}.dlq`] });
    }
  });

  it("converges to the highest version of every key, whatever order records arrive in", async () => {
    await writeAll(writer, history);
    await changelog.waitCaughtUp(region, 60_000);
    const expected = await checksumsOf(registry, latestPerDriver(history));
    const afterFirstPass = await regionChecksum(live.client, registry);
    assert.deepEqual(diffChecksums(afterFirstPass, expected), []);
    assert.equal(afterFirstPass.find((c) => c.view === "stats@1")!.rows, DRIVERS);
    assert.equal(totals.applied + totals.stale, history.length);

    // The same records again, in reverse order: every one is stale, nothing changes.
    const appliedBefore = totals.applied;
    await writeAll(writer, [...history].reverse());
    await changelog.waitCaughtUp(region, 60_000);
    assert.equal(totals.applied, appliedBefore, "no duplicate applied");
    assert.equal(totals.applied + totals.stale, 2 * history.length);
    assert.deepEqual(diffChecksums(await regionChecksum(live.client, registry), expected), []);
  });

  it("replays the changelog into an empty Redis and gets the live region's checksums", async () => {
    const empty = await startStandalone();
    const client = new Redis(empty.url);
    try {
      const store = await OnlineStore.open({ client, registry, hotCache: false });
      const report = await replayChangelog({ kafka: changelog.kafka, store });
      assert.equal(report.records, 2 * history.length);
      assert.equal(report.rejected, 0);
      assert.deepEqual(
        diffChecksums(
          await regionChecksum(client, registry),
          await regionChecksum(live.client, registry),
        ),
        [],
      );
    } finally {
      client.disconnect();
      await empty.stop();
    }
  });

  it("replays from a timestamp only what was produced since", async () => {
    const since = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const late = latestPerDriver(history)
      .slice(0, 10)
      .map((row) => ({
        ...row,
        version: { ...row.version, eventTsMs: row.version.eventTsMs + 1 },
      }));
    await writeAll(writer, late);
    const empty = await startStandalone();
    const client = new Redis(empty.url);
    try {
      const store = await OnlineStore.open({ client, registry, hotCache: false });
      const report = await replayChangelog({
        kafka: changelog.kafka,
        store,
        fromTimestampMs: since,
      });
      assert.equal(report.records, late.length);
      assert.equal(report.applied, late.length);
    } finally {
      client.disconnect();
      await empty.stop();
    }
  });

  it("sends poison records to the dead-letter topic with their reasons, and applies the records after them", async () => {
    const producer = changelog.kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const valid = JSON.parse(
      JSON.stringify({
        schema: 1,
        view: "stats",
        major: 1,
        entity: "i900001",
        version: {
          eventTsMs: Date.now(),
          epoch: 0,
          hlc: { wallMs: Date.now(), counter: 0 },
          originRegion: "eu-west-1",
        },
        clock: `eu-west-1:${Date.now().toString(16).padStart(12, "0")}0000`,
        values: { rate: "0.5", trips: "1", label: "=after the poison" },
      }),
    ) as Record<string, unknown>;
    const rejectedBefore = totals.rejected;
    await producer.send({
      topic: changelog.topic,
      acks: -1,
      messages: [
        { partition: 0, key: "stats@1/i900000", value: "{not json" },
        {
          partition: 0,
          key: "ghost@1/i900000",
          value: JSON.stringify({ ...valid, view: "ghost" }),
        },
        { partition: 0, key: "stats@1/i900001", value: JSON.stringify(valid) },
      ],
    });
    await producer.disconnect();
    await changelog.waitCaughtUp(region, 30_000);
    assert.equal(totals.rejected - rejectedBefore, 2);

    const read = await live.store.read([{ driver_id: 900001 }], ["stats@1:label"]);
    assert.equal(read.rows[0]!.values[0], "after the poison");

    const dead = await readDeadLetters(changelog, 2);
    assert.deepEqual(
      dead.map((d) => [d.key, d.code, d.partition]),
      [
        ["stats@1/i900000", "STRATA_E_BAD_RECORD", "0"],
        ["ghost@1/i900000", "STRATA_E_UNKNOWN_VIEW", "0"],
      ],
    );
    assert.match(dead[0]!.reason, /not JSON/);
    assert.equal(dead[0]!.value, "{not json", "the original bytes are kept");
    assert.equal(Number(dead[1]!.offset), Number(dead[0]!.offset) + 1);
  });

  it("dead-letters a row whose stored state in Redis is corrupt, and keeps the partition moving", async () => {
    const drivers = [950_000, 950_001, 950_002, 950_003];
    const key = (driver: number) => `fs:{${registry.project}:driver:i${driver}}`;
    const at = Date.now();
    const row = (driver: number, rate: number, ms: number): WriteRow => ({
      view: "stats@1",
      entity: { driver_id: driver },
      values: { rate, trips: 1, label: "x" },
      version: {
        eventTsMs: ms,
        epoch: 0,
        hlc: { wallMs: ms, counter: 0 },
        originRegion: "eu-west-1",
      },
    });
    await writer.write(
      drivers.map((d) => row(d, 1, at)),
      { wait: "acked" },
    );
    await changelog.waitCaughtUp(region, 30_000);
    await live.client.hset(key(950_001), "stats@1#0:_v", "garbage");
    const corrupted = await live.client.hgetall(key(950_001));
    const rejectedBefore = totals.rejected;

    // Before, the script raised on the corrupt row and the consumer retried the chunk forever:
    // the partition stopped here and this wait timed out.
    await writer.write(
      drivers.map((d) => row(d, 2, at + 1)),
      { wait: "acked" },
    );
    await changelog.waitCaughtUp(region, 30_000);
    assert.equal(totals.rejected - rejectedBefore, 1);
    assert.deepEqual(await live.client.hgetall(key(950_001)), corrupted, "not half-written");
    const others = [drivers[0]!, drivers[2]!, drivers[3]!];
    const read = await live.store.read(
      others.map((driver_id) => ({ driver_id })),
      ["stats@1:rate"],
    );
    assert.deepEqual(
      read.rows.map((r) => r.values[0]),
      [2, 2, 2],
      "the other rows applied",
    );

    const dead = (await readDeadLetters(changelog, 3)).filter(
      (d) => d.code === "STRATA_E_STORED_STATE_CORRUPT",
    );
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.key, "stats@1/i950001");
    assert.match(dead[0]!.reason, /stored version or clock vector of stats@1 generation 0/);
    assert.match(dead[0]!.value, /"rate":"2"/, "the record as it was in the changelog");
  });
});

async function readDeadLetters(changelog: ChangelogFixture, count: number) {
  const consumer = changelog.kafka.consumer({ groupId: `dlq-reader-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: changelog.dlq, fromBeginning: true });
  const found: {
    key: string;
    value: string;
    code: string;
    reason: string;
    partition: string;
    offset: string;
  }[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${found.length} dead letters`)), 30_000);
    void consumer.run({
      eachMessage: ({ message }) => {
        const header = (name: string) => message.headers?.[name]?.toString() ?? "";
        found.push({
          key: message.key?.toString() ?? "",
          value: message.value?.toString() ?? "",
          code: header(DEAD_LETTER_HEADERS.code),
          reason: header(DEAD_LETTER_HEADERS.reason),
          partition: header(DEAD_LETTER_HEADERS.partition),
          offset: header(DEAD_LETTER_HEADERS.offset),
        });
        if (found.length >= count) {
          clearTimeout(timer);
          resolve();
        }
        return Promise.resolve();
      },
    });
  });
  await consumer.disconnect();
  return found.sort((a, b) => Number(a.offset) - Number(b.offset));
}

describe("the regional consumer while Redis is down", () => {
  const registry = new FeatureRegistry(testRepo(uniqueProject("outage")));
  const region = "test-outage";
  let changelog: ChangelogFixture;
  let redis: Awaited<ReturnType<typeof startStandalone>>;
  let client: ReturnType<typeof connectFailFast>;

  before(async () => {
    changelog = await changelogFixture(registry);
    redis = await startStandalone();
    client = connectFailFast({ url: redis.url });
    client.on("error", () => undefined);
    const store = await OnlineStore.open({ client, registry, hotCache: false });
    await changelog.startConsumer(store, region);
  });
  after(async () => {
    await changelog.cleanup();
    client.disconnect();
    await redis.stop();
  });

  const rows = (from: number, count: number): WriteRow[] =>
    Array.from({ length: count }, (_, i) => ({
      view: "stats@1",
      entity: { driver_id: from + i },
      values: { rate: 1, trips: from + i, label: "x" },
      version: {
        eventTsMs: Date.now(),
        epoch: 0,
        hlc: { wallMs: Date.now(), counter: 0 },
        originRegion: "eu-west-1",
      },
    }));

  it("retries without committing past unapplied records, and applies them once Redis is back", async () => {
    const writer = await changelog.openWriter();
    await writer.write(rows(0, 100), { wait: "acked" });
    await changelog.waitCaughtUp(region, 30_000);
    const committedBefore = await changelog.committed(region);

    await redis.server.kill();
    await writer.write(rows(100, 100), { wait: "acked" });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.deepEqual(
      await changelog.committed(region),
      committedBefore,
      "nothing committed while Redis is down",
    );

    // Redis comes back empty (no persistence): the records of the outage must all land.
    await redis.server.start();
    await changelog.waitCaughtUp(region, 30_000);
    const check = new Redis(redis.url);
    try {
      const checksum = await regionChecksum(check, registry);
      assert.equal(checksum.find((c) => c.view === "stats@1")!.rows, 100);
    } finally {
      check.disconnect();
    }
  });
});

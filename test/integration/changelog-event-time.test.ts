// Event times from the future, on the real Kafka and Redis: refused by the writer and /push,
// dead-lettered by the consumer, and a row one of them locked before repaired with
// `npm run repair` so that neither live writes nor a replay of the changelog bring it back.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import {
  changelogTopic,
  DEAD_LETTER_HEADERS,
  encodeChangelogRecord,
  replayChangelog,
  type ChangelogWriter,
} from "../../shared/changelog/index.js";
import { keyPartition } from "../../shared/changelog/partitioner.js";
import { readKeyRecords } from "../../shared/changelog/repair-key.js";
import { isStrataError, type StrataError } from "../../shared/errors.js";
import { OnlineStore, regionChecksum, type WriteRow } from "../../shared/online-store/index.js";
import { validateWrites } from "../../shared/online-store/write-path.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { changelogFixture, type ChangelogFixture } from "../support/changelog.js";
import { startStandalone } from "../support/redis-process.js";
import { openStore, testRepo, uniqueProject, type OpenedStore } from "../support/store.js";

const REGION = "test-future";
/** The largest event time a version can hold: year 10889. */
const FAR_FUTURE = 2 ** 48 - 1;

const row = (driver: number, rate: number, eventTsMs = Date.now()): WriteRow => ({
  view: "stats@1",
  entity: { driver_id: driver },
  values: { rate, trips: 1, label: `rate ${rate}` },
  version: {
    eventTsMs,
    epoch: 0,
    hlc: { wallMs: Date.now(), counter: 0 },
    originRegion: "eu-west-1",
  },
});

/** The changelog record of a row, encoded without the writer's checks (as an old build wrote it). */
const recordOf = (registry: FeatureRegistry, r: WriteRow) =>
  encodeChangelogRecord(validateWrites(registry, [r])[0]!);

async function rateOf(store: OnlineStore, driver: number): Promise<unknown> {
  return (await store.read([{ driver_id: driver }], ["stats@1:rate"])).rows[0]!.values[0];
}

async function produceRaw(changelog: ChangelogFixture, key: string, value: string) {
  const producer = changelog.kafka.producer();
  await producer.connect();
  await producer.send({ topic: changelog.topic, acks: -1, messages: [{ key, value }] });
  await producer.disconnect();
}

describe("event times from the future", () => {
  const registry = new FeatureRegistry(testRepo(uniqueProject("future")));
  let changelog: ChangelogFixture;
  let live: OpenedStore;
  let writer: ChangelogWriter;
  const deadLettered: { offset: string; code: string }[] = [];

  before(async () => {
    changelog = await changelogFixture(registry);
    live = await openStore("standalone", registry, { hotCache: false });
    writer = await changelog.openWriter(live.store);
    await changelog.startConsumer(live.store, REGION, {
      applied: (outcome) => {
        for (const r of outcome.rejected) {
          deadLettered.push({ offset: r.message.offset, code: r.error.code });
        }
      },
    });
  });
  after(async () => {
    await changelog.cleanup();
    await live.close();
  });

  it("are refused by the writer, naming the row, and nothing is produced", async () => {
    const before = await changelog.endOffsets();
    for (const wait of ["enqueued", "acked"] as const) {
      await assert.rejects(
        writer.write([row(1, 0.5), row(2, 0.5, Date.now() + 3_600_000)], { wait }),
        (e: StrataError) =>
          isStrataError(e, "STRATA_E_BATCH_REJECTED") &&
          JSON.stringify(e.details.rejected).includes(
            '"index":1,"code":"STRATA_E_EVENT_TIME_IN_FUTURE"',
          ),
      );
    }
    await writer.flush();
    assert.deepEqual(await changelog.endOffsets(), before);
  });

  it("are dead-lettered by the consumer with STRATA_E_EVENT_TIME_IN_FUTURE, and the next record is applied", async () => {
    await produceRaw(changelog, "stats@1/i3", recordOf(registry, row(3, 9, FAR_FUTURE)).value);
    const good = recordOf(registry, row(4, 0.25));
    await produceRaw(changelog, good.key, good.value);
    await changelog.waitCaughtUp(REGION, 30_000);
    assert.deepEqual(
      deadLettered.map((d) => d.code),
      ["STRATA_E_EVENT_TIME_IN_FUTURE"],
    );
    assert.equal(await rateOf(live.store, 3), null, "the future row was not applied");
    assert.equal(await rateOf(live.store, 4), 0.25);
    const dead = await readDeadLetter(changelog);
    assert.equal(dead.key, "stats@1/i3");
    assert.equal(dead.code, "STRATA_E_EVENT_TIME_IN_FUTURE");
    assert.match(dead.reason, /10889/);
  });

  it("a row locked by one before is repaired by `npm run repair`: later writes apply, and a replay does not lock it again", async () => {
    const driver = 7;
    await writer.write([row(driver, 0.1, Date.now() - 2_000)], { wait: "acked" });
    // The lock, as a build without the check left it: the record in the changelog, the row
    // in Redis (this build's consumer would refuse to apply it, so it is written directly).
    const lock = row(driver, 99, FAR_FUTURE);
    const lockRecord = recordOf(registry, lock);
    await produceRaw(changelog, lockRecord.key, lockRecord.value);
    await live.store.write([lock]);
    await writer.write([row(driver, 0.2)], { wait: "acked" });
    await changelog.waitCaughtUp(REGION, 30_000);
    assert.equal(await rateOf(live.store, driver), 99, "locked: the real write was stale");

    const repair = await runRepair(registry.project, "stats@1", { driver_id: driver });
    assert.equal(repair.code, 0, repair.output);
    const report = JSON.parse(repair.output.trim().split("\n").pop()!) as {
      key: string;
      records: number;
      rejected: { code: string }[];
      restored: { eventTsMs: number } | undefined;
      republished: boolean;
      deletedFields: number;
    };
    assert.equal(report.key, `stats@1/i${driver}`);
    assert.equal(report.records, 3);
    assert.deepEqual(
      report.rejected.map((r) => r.code),
      ["STRATA_E_EVENT_TIME_IN_FUTURE"],
    );
    assert.ok(report.deletedFields > 0);
    assert.equal(report.republished, true);
    assert.equal(
      await rateOf(live.store, driver),
      0.2,
      "the latest real write holds the row again",
    );

    // The key's last record in the log is the winner again, so compaction drops the lock.
    const partitions = (await changelog.endOffsets()).size;
    const partition = keyPartition(report.key, partitions);
    const ends = await changelog.admin.fetchTopicOffsets(changelogTopic(registry.project));
    const { low, high } = ends.find((o) => o.partition === partition)!;
    const records = await readKeyRecords(
      changelog.kafka,
      changelog.topic,
      partition,
      BigInt(low),
      BigInt(high),
      report.key,
    );
    assert.match(records[records.length - 1]!.value!.toString(), /"rate":"0.2"/);

    await writer.write([row(driver, 0.3)], { wait: "applied" });
    assert.equal(await rateOf(live.store, driver), 0.3, "a normal write applies again");
    await changelog.waitCaughtUp(REGION, 30_000);

    const rebuilt = await startStandalone();
    const client = new Redis(rebuilt.url);
    try {
      const store = await OnlineStore.open({ client, registry, hotCache: false });
      const replay = await replayChangelog({ kafka: changelog.kafka, store });
      assert.ok(replay.rejectedSamples.some((r) => r.code === "STRATA_E_EVENT_TIME_IN_FUTURE"));
      assert.equal(await rateOf(store, driver), 0.3, "the replay did not bring the lock back");
      assert.equal(await rateOf(store, 3), null);
      assert.deepEqual(
        await regionChecksum(client, registry),
        await regionChecksum(live.client, registry),
        "the rebuilt region equals the live one",
      );
      await store.close();
    } finally {
      client.disconnect();
      await rebuilt.stop();
    }
  });
});

function runRepair(
  project: string,
  view: string,
  entity: Record<string, unknown>,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "functions/ingest/repair.ts",
      "--view",
      view,
      "--entity",
      JSON.stringify(entity),
      "--json",
    ],
    {
      env: {
        ...process.env,
        STRATA_REPO: "test/support/test-repo-module.ts",
        STRATA_TEST_PROJECT: project,
        REDIS_URL: resolveEndpoints().redis.address,
        REDIS_CLUSTER_NODES: "",
        KAFKA_BROKERS: resolveEndpoints().kafka.address.join(","),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, output })));
}

async function readDeadLetter(changelog: ChangelogFixture) {
  const consumer = changelog.kafka.consumer({ groupId: `dlq-reader-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: changelog.dlq, fromBeginning: true });
  const found = await new Promise<{ key: string; code: string; reason: string }>(
    (resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no dead letter")), 30_000);
      void consumer.run({
        eachMessage: ({ message }) => {
          clearTimeout(timer);
          const header = (name: string) => message.headers?.[name]?.toString() ?? "";
          resolve({
            key: message.key?.toString() ?? "",
            code: header(DEAD_LETTER_HEADERS.code),
            reason: header(DEAD_LETTER_HEADERS.reason),
          });
          return Promise.resolve();
        },
      });
    },
  );
  await consumer.disconnect();
  return found;
}

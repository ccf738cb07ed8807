// POST /push to aggregation views on the real Kafka: each row becomes one event on
// strata.<project>.events in CONTRACTS.md's encoding, acknowledged before the answer; a push
// source naming a feature view too writes its rows through the changelog; bad pushes write
// nothing at all.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { generateApiKey } from "../../functions/serve/auth.js";
import { aggregationEventsTopic as eventsTopic } from "../../shared/aggregations/index.js";
import { changelogTopic, createKafka, deadLetterTopic } from "../../shared/changelog/index.js";
import { keyPartition } from "../../shared/changelog/partitioner.js";
import { encodeEntityKey } from "../../shared/key-codec.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { aggregationsServeRepo } from "../support/aggregations-serve-repo.js";
import { TEST_TOPICS } from "../support/changelog.js";
import { post, startTestServer, type TestServer } from "../support/serve.js";
import { uniqueProject } from "../support/store.js";

describe("POST /push to aggregation views, on the real Kafka", () => {
  const registry = new FeatureRegistry(aggregationsServeRepo(uniqueProject("aggpush")));
  const project = registry.project;
  const view = registry.aggregationView("card_txn");
  const pusher = generateApiKey("pusher", { push: true });
  const kafka = createKafka(
    { brokers: resolveEndpoints().kafka.address, clientId: "aggpush-test" },
    () => undefined,
  );
  const admin = kafka.admin();
  let server: TestServer;

  before(async () => {
    await admin.connect();
    server = await startTestServer(registry, {
      extraKeys: [pusher.record],
      changelog: {
        kafka: { brokers: resolveEndpoints().kafka.address },
        region: "aggpush",
        topics: TEST_TOPICS,
        queueMaxRecords: 10_000,
        batchSize: 500,
        lingerMs: 5,
        ackTimeoutMs: 10_000,
      },
    });
  });
  after(async () => {
    await server?.close();
    await admin
      .deleteTopics({
        topics: [changelogTopic(project), deadLetterTopic(project), eventsTopic(project)],
      })
      .catch(() => undefined);
    await admin.disconnect();
  });

  const push = (name: string, df: Record<string, unknown[]>, extra: Record<string, unknown> = {}) =>
    post(
      server.url,
      { push_source_name: name, df, to: "online", ...extra },
      { key: pusher.key, path: "/push" },
    );
  const T = Date.now() - 60_000;
  const df = (cards: string[], amounts: unknown[] = cards.map((_, i) => i + 0.25)) => ({
    card_id: cards,
    amount: amounts,
    merchant: cards.map((c) => `at ${c}`),
    qty: cards.map((_, i) => i),
    event_timestamp: cards.map((_, i) => T + i),
  });

  /** Every record of a topic, read from its start up to its end now. */
  async function records(
    topic: string,
  ): Promise<{ key: string; value: string; partition: number }[]> {
    const ends = await admin.fetchTopicOffsets(topic);
    const total = ends.reduce((n, p) => n + Number(p.high), 0);
    const seen: { key: string; value: string; partition: number }[] = [];
    if (total === 0) return seen;
    const consumer = kafka.consumer({ groupId: `aggpush-reader-${Math.random()}` });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`read ${seen.length} of ${total}`)),
          30_000,
        );
        void consumer.run({
          eachMessage: ({ message, partition }) => {
            seen.push({
              key: message.key!.toString(),
              value: message.value!.toString(),
              partition,
            });
            if (seen.length >= total) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    return seen;
  }

  it("produces one event per row to the events topic, acknowledged before the answer, keyed by view and entity", async () => {
    const answer = await push("card_txn", df(["c1", "c2", "c1"], [12.5, null, 3]), {
      wait: "acked",
    });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(
      { ...answer.json },
      {
        status: "ok",
        push_source_name: "card_txn",
        rows: 3,
        views: ["card_txn@1"],
        reached: "acked",
        events: 3,
      },
    );
    // Acknowledged before the answer: all three are in the topic now.
    const events = await records(eventsTopic(project));
    const key = (card: string) => `card_txn@1/${encodeEntityKey(view.joinKeys, { card_id: card })}`;
    const byOffsetOrder = events.filter((e) => e.key === key("c1"));
    assert.equal(events.length, 3);
    assert.deepEqual(
      byOffsetOrder.map((e) => JSON.parse(e.value) as unknown),
      [
        {
          schema: 1,
          view: "card_txn",
          major: 1,
          entity: encodeEntityKey(view.joinKeys, { card_id: "c1" }),
          eventTsMs: T,
          values: { amount: "12.5", merchant: "=at c1", qty: "0" },
        },
        {
          schema: 1,
          view: "card_txn",
          major: 1,
          entity: encodeEntityKey(view.joinKeys, { card_id: "c1" }),
          eventTsMs: T + 2,
          values: { amount: "3", merchant: "=at c1", qty: "2" },
        },
      ],
    );
    const c2 = events.find((e) => e.key === key("c2"))!;
    // A null input is left out ("" or absent: null).
    assert.deepEqual((JSON.parse(c2.value) as { values: unknown }).values, {
      merchant: "=at c2",
      qty: "1",
    });
    // The partition Kafka's default partitioner gives the key: any producer of the topic agrees.
    for (const e of events) assert.equal(e.partition, keyPartition(e.key, TEST_TOPICS.partitions));
  });

  it("writes a push source's feature view rows and its aggregation view events together", async () => {
    const before = (await records(eventsTopic(project))).length;
    const answer = await push("card_push", df(["m1", "m2"]), { wait: "acked" });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json.views, ["card_last@1", "card_txn@1"]);
    assert.equal(answer.json.events, 2);
    assert.equal((await records(eventsTopic(project))).length, before + 2);
    const rows = (await records(changelogTopic(project))).filter((r) =>
      r.key.startsWith("card_last@1"),
    );
    assert.equal(rows.length, 2);
  });

  it("refuses bad pushes whole: no event and no row is written", async () => {
    const eventsBefore = (await records(eventsTopic(project))).length;
    const rowsBefore = (await records(changelogTopic(project))).length;
    const cases: [Record<string, unknown[]>, Record<string, unknown>, number, string][] = [
      [df(["b1", "b2"], [1, "lots"]), {}, 400, "STRATA_E_BATCH_REJECTED"],
      [
        { ...df(["b1"]), event_timestamp: [Date.now() + 3_600_000] },
        {},
        400,
        "STRATA_E_BATCH_REJECTED",
      ],
      [df(["b1"]), { wait: "applied" }, 400, "STRATA_E_BAD_REQUEST"],
      [{ ...df(["b1"]), colour: ["red"] }, {}, 400, "STRATA_E_UNKNOWN_FEATURE"],
      // qty is an input of the aggregation view only: its check alone must stop the rows too.
      [{ ...df(["b1", "b2"]), qty: [1, "many"] }, {}, 400, "STRATA_E_BATCH_REJECTED"],
    ];
    for (const [body, extra, status, code] of cases) {
      const answer = await push("card_push", body, extra);
      assert.equal(answer.status, status, answer.text);
      assert.equal((answer.json.error as { code: string }).code, code);
    }
    const typed = await push("card_push", df(["b1", "b2"], [1, "lots"]));
    assert.deepEqual(
      (
        typed.json.error as { details: { rejected: { index: number; code: string }[] } }
      ).details.rejected.map((r) => [r.index, r.code]),
      [[1, "STRATA_E_VALUE_TYPE"]],
    );
    assert.equal((await records(eventsTopic(project))).length, eventsBefore);
    assert.equal((await records(changelogTopic(project))).length, rowsBefore);
  });

  it("answers only once Kafka has the events: a refused event fails the push", async () => {
    // Records over 2,000 bytes are refused by the topic from now on (this test comes last).
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: 2, // kafkajs ConfigResourceTypes.TOPIC
          name: eventsTopic(project),
          configEntries: [{ name: "max.message.bytes", value: "2000" }],
        },
      ],
    });
    const answer = await push(
      "card_txn",
      { ...df(["big"]), merchant: ["x".repeat(5_000)] },
      { wait: "acked" },
    );
    assert.equal(answer.status, 413, answer.text);
    assert.equal((answer.json.error as { code: string }).code, "STRATA_E_RECORD_TOO_LARGE");
  });
});

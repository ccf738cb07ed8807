import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Consumer } from "kafkajs";
import {
  AggregationConsumer,
  aggregationEventKey,
  aggregationGroupId,
  readAggregates,
  writeAggregationEvents,
  type AggregationOutcome,
} from "../../shared/aggregations/index.js";
import { DEAD_LETTER_HEADERS } from "../../shared/changelog/dead-letter.js";
import { encodeEntityKey } from "../../shared/key-codec.js";
import { FeatureRegistry } from "../../shared/registry/index.js";
import { aggregationBed, type AggregationBed } from "../support/aggregation-bed.js";
import { aggregationTestRepo } from "../support/aggregation-repo.js";
import { connectRedis, TOPOLOGIES, uniqueName, type RedisClient } from "../support/servers.js";

// Too-late and undecodable events go to the dead-letter topic with their code and are never
// applied; on-time events out of order, and a topic source's JSON records, are.
const MINUTE = 60_000;

for (const topology of TOPOLOGIES) {
  describe(`aggregation dead letters and topic sources (${topology})`, () => {
    const project = uniqueName("aggd").replace(/[^a-z0-9_]/g, "_");
    const paymentsTopic = `${project}.payments`;
    const repo = aggregationTestRepo(project);
    repo.aggregationViews!.push({
      name: "card_topic",
      version: "1.0.0",
      entities: ["card"],
      inputs: { amount: "float64" },
      source: { topic: paymentsTopic, timestampField: "ts" },
      aggregations: [
        { name: "tx_1h", function: "count", windowMs: 3_600_000, tileMs: MINUTE },
        {
          name: "amount_1h",
          function: "sum",
          column: "amount",
          windowMs: 3_600_000,
          tileMs: MINUTE,
        },
      ],
    });
    const registry = new FeatureRegistry(repo);
    const velocity = registry.aggregationView("card_velocity");
    const topicView = registry.aggregationView("card_topic");
    const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - 30 * MINUTE;
    let bed: AggregationBed;
    let redis: RedisClient;
    let consumer: AggregationConsumer | undefined;
    let dlqReader: Consumer | undefined;
    const outcomes: AggregationOutcome[] = [];

    before(async () => {
      bed = await aggregationBed(project);
      await bed.admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: paymentsTopic, numPartitions: 2, replicationFactor: 1 }],
      });
      redis = connectRedis(topology);
    });
    after(async () => {
      await consumer?.stop();
      await dlqReader?.disconnect();
      await redis.quit();
      await bed.cleanup([paymentsTopic]);
    });

    it("dead-letters too-late and bad events with their codes and applies the rest", async () => {
      const card = (amount: number, eventTsMs: number) => ({
        view: velocity,
        row: { card_id: "x", amount, cents: "1", merchant: "m" },
        eventTsMs,
      });
      // One at a time: each must follow the one before in its partition.
      for (const row of [
        card(1, t0),
        card(2, t0 + 10 * MINUTE), // watermark t0+10m: older than t0+8m is too late
        card(999, t0 + 7 * MINUTE - 1), // too late
        card(3, t0 + 8 * MINUTE + 1), // on time, out of order
      ]) {
        await writeAggregationEvents(bed.producer, project, [row]);
      }
      const entity = encodeEntityKey(velocity.joinKeys, { card_id: "x" });
      await bed.producer.send({
        topic: bed.eventsTopic,
        messages: [
          { key: aggregationEventKey(velocity.key, entity), value: "not json" },
          {
            key: "nope@1/sx",
            value: JSON.stringify({
              schema: 1,
              view: "nope",
              major: 1,
              entity: "sx",
              eventTsMs: t0,
              values: {},
            }),
          },
        ],
      });
      await bed.producer.send({
        topic: paymentsTopic,
        messages: [
          {
            key: "t1",
            value: JSON.stringify({
              card_id: "t1",
              amount: 2.5,
              ts: new Date(t0 + MINUTE).toISOString(),
            }),
          },
          { key: "t1", value: JSON.stringify({ card_id: "t1", amount: 4, ts: t0 + 2 * MINUTE }) },
          { key: "t1", value: JSON.stringify({ card_id: "t1", amount: 1 }) },
          { key: "t1", value: JSON.stringify({ amount: 1, ts: t0 }) },
        ],
      });

      consumer = await AggregationConsumer.start({
        kafka: bed.kafka,
        redis,
        registry: () => registry,
        region: "a",
        observer: { applied: (outcome) => outcomes.push(outcome) },
      });
      assert.deepEqual([...consumer.topics].sort(), [bed.eventsTopic, paymentsTopic].sort());

      // Everything consumed: the group's commits reach the end of both topics.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const behind = await Promise.all(
          [bed.eventsTopic, paymentsTopic].map(async (topic) => {
            const ends = await bed.admin.fetchTopicOffsets(topic);
            const [committed] = await bed.admin.fetchOffsets({
              groupId: aggregationGroupId(project, "a"),
              topics: [topic],
            });
            return ends.some((end) => {
              const at = committed!.partitions.find((p) => p.partition === end.partition);
              // An empty partition has nothing to commit.
              return Number(end.high) > 0 && Number(at?.offset ?? -1) < Number(end.high);
            });
          }),
        );
        if (!behind.includes(true)) break;
        assert.ok(Date.now() < deadline, "the consumer did not catch up");
        await sleep(100);
      }

      const [row] = await readAggregates(redis, project, velocity, [entity], t0 + 10 * MINUTE);
      const value = (name: string) =>
        row!.texts[velocity.aggregation.aggregations.findIndex((a) => a.name === name)];
      assert.equal(value("tx_5m"), "2");
      assert.equal(value("max_amount_5m"), "3");
      const [topicRow] = await readAggregates(
        redis,
        project,
        topicView,
        [encodeEntityKey(topicView.joinKeys, { card_id: "t1" })],
        t0 + 2 * MINUTE,
      );
      assert.deepEqual(topicRow!.texts, ["2", "6.5"]);
      const late = outcomes.flatMap((o) => [...o.byView.values()]).reduce((n, c) => n + c.late, 0);
      assert.equal(late, 1);

      const codes: string[] = [];
      dlqReader = bed.kafka.consumer({ groupId: uniqueName("dlq-reader") });
      await dlqReader.connect();
      await dlqReader.subscribe({ topics: [bed.dlq], fromBeginning: true });
      await dlqReader.run({
        eachMessage: async ({ message }) => {
          codes.push(String(message.headers?.[DEAD_LETTER_HEADERS.code]));
          await Promise.resolve();
        },
      });
      const until = Date.now() + 30_000;
      while (codes.length < 5 && Date.now() < until) await sleep(100);
      await sleep(500);
      assert.deepEqual(codes.sort(), [
        "STRATA_E_AGGREGATION_TOO_LATE",
        "STRATA_E_BAD_AGGREGATION_EVENT",
        "STRATA_E_BAD_AGGREGATION_EVENT",
        "STRATA_E_BAD_AGGREGATION_EVENT",
        "STRATA_E_MISSING_JOIN_KEY",
      ]);
    });
  });
}

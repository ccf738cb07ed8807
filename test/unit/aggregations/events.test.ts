import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KafkaMessage } from "kafkajs";
import {
  aggregationEventMessages,
  computeAggregates,
  decodeAggregationEvent,
  topicSourceDecoder,
} from "../../../shared/aggregations/index.js";
import { isStrataError } from "../../../shared/errors.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";
import { aggregationTestRepo } from "../../support/aggregation-repo.js";

const registry = new FeatureRegistry(aggregationTestRepo("p"));
const view = registry.aggregationView("card_velocity");
const topicRegistry = new FeatureRegistry(
  aggregationTestRepo("p", { topic: "payments", timestampField: "ts" }),
);

function message(value: string, offset = "7"): KafkaMessage {
  return {
    key: null,
    value: Buffer.from(value),
    offset,
    timestamp: String(Date.now()),
    attributes: 0,
    headers: {},
  };
}

describe("aggregation events", () => {
  it("round-trips a pushed row through the events topic encoding, integers canonical", () => {
    const [m] = aggregationEventMessages([
      {
        view,
        row: { card_id: "c:1", amount: 12.5, cents: "9007199254740993", merchant: null, extra: 1 },
        eventTsMs: 1_765_000_000_000,
      },
    ]);
    assert.equal(m!.key, "card_velocity@1/sc\\c1");
    const event = decodeAggregationEvent(registry, "strata.p.events", 2, message(String(m!.value)));
    assert.equal(event.view, view);
    assert.equal(event.entity, "sc\\c1");
    assert.equal(event.eventTsMs, 1_765_000_000_000);
    assert.deepEqual(
      [event.sourceTopic, event.partition, event.offset],
      ["strata.p.events", 2, "7"],
    );
    assert.deepEqual(event.texts, ["12.5", "9007199254740993", ""]);
  });

  it("refuses bad rows before anything is sent", () => {
    assert.throws(
      () => aggregationEventMessages([{ view, row: { amount: 1 }, eventTsMs: 1 }]),
      (e: unknown) => isStrataError(e, "STRATA_E_MISSING_JOIN_KEY"),
    );
    assert.throws(
      () => aggregationEventMessages([{ view, row: { card_id: "c", amount: "x" }, eventTsMs: 1 }]),
      (e: unknown) => isStrataError(e, "STRATA_E_VALUE_TYPE") && e.message.includes("amount"),
    );
  });

  it("reports undecodable events as STRATA_E_BAD_AGGREGATION_EVENT", () => {
    for (const value of [
      "not json",
      '{"schema":2}',
      '{"schema":1,"view":"nope","major":1,"entity":"sx","eventTsMs":1}',
      '{"schema":1,"view":"card_velocity","major":1,"entity":"sx","eventTsMs":"1"}',
      '{"schema":1,"view":"card_velocity","major":1,"entity":"sx","eventTsMs":1,"values":{"cents":"1.5"}}',
    ]) {
      assert.throws(
        () => decodeAggregationEvent(registry, "t", 0, message(value)),
        (e: unknown) => isStrataError(e, "STRATA_E_BAD_AGGREGATION_EVENT"),
        value,
      );
    }
  });

  it("decodes topic source records with millisecond or ISO times", () => {
    const ms = topicSourceDecoder.decode(
      topicRegistry,
      "payments",
      1,
      message('{"card_id":"c","amount":2,"cents":"3","ts":1765000000000}'),
    );
    assert.equal(ms[0]!.eventTsMs, 1_765_000_000_000);
    assert.deepEqual(ms[0]!.texts, ["2", "3", ""]);
    const iso = topicSourceDecoder.decode(
      topicRegistry,
      "payments",
      1,
      message('{"card_id":"c","ts":"2025-12-06T05:46:40.000Z"}'),
    );
    assert.equal(iso[0]!.eventTsMs, 1_765_000_000_000);
    assert.deepEqual(topicSourceDecoder.topics(topicRegistry), ["payments"]);
    assert.throws(
      () =>
        topicSourceDecoder.decode(
          topicRegistry,
          "payments",
          1,
          message('{"card_id":"c","ts":"yesterday"}'),
        ),
      (e: unknown) => isStrataError(e, "STRATA_E_BAD_AGGREGATION_EVENT"),
    );
  });
});

describe("aggregate folding", () => {
  const aggs = view.aggregation.aggregations;
  const width = aggs.reduce((n, a) => n + (a.function === "mean" ? 2 : 1) * a.tiles, 0);

  it("says NOT_FOUND (no state) without a watermark", () => {
    const row = computeAggregates(aggs, new Array<string | null>(1 + width).fill(null));
    assert.equal(row.hasState, false);
    assert.ok(row.texts.every((t) => t === ""));
  });

  it("gives 0, null and [] over an empty window of an entity with state", () => {
    const reply = [String(Date.now()), ...new Array<string | null>(width).fill(null)];
    const row = computeAggregates(aggs, reply);
    assert.deepEqual(Object.fromEntries(aggs.map((a, i) => [a.name, row.texts[i]])), {
      tx_5m: "0",
      amount_5m: "0",
      cents_10m: "0",
      mean_5m: "",
      min_cents_10m: "",
      max_amount_5m: "",
      last_merchants: "[]",
    });
  });
});

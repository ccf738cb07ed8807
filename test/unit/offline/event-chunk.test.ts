// The projector's view of aggregation sources: the aggregation consumer's decoders by topic,
// each event a row of its view major's event table with its origin; what the consumer
// dead-letters for what it is (undecodable, too far in the future) is skipped.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KafkaMessage } from "kafkajs";
import { aggregationSourceTopics, projectEventChunk } from "../../../shared/offline/event-chunk.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";

const registry = new FeatureRegistry({
  project: "chunk",
  entities: [{ name: "card", joinKeys: { card_id: "int64" } }],
  views: [],
  aggregationViews: [
    {
      name: "pushed",
      version: "1.0.0",
      entities: ["card"],
      inputs: { amount: "float64" },
      source: { push: true },
      aggregations: [{ name: "n", function: "count", windowMs: 60_000, tileMs: 60_000 }],
    },
    {
      name: "payments",
      version: "3.0.0",
      entities: ["card"],
      inputs: { amount: "float64" },
      source: { topic: "bank.payments", timestampField: "at" },
      aggregations: [{ name: "n", function: "count", windowMs: 60_000, tileMs: 60_000 }],
    },
  ],
});

const T = 1_765_000_000_000;
const message = (offset: number, value: string, timestamp = T): KafkaMessage =>
  ({
    key: null,
    value: Buffer.from(value),
    timestamp: String(timestamp),
    attributes: 0,
    offset: String(offset),
  }) as KafkaMessage;

describe("projectEventChunk", () => {
  it("reads what the aggregation consumer reads: the events topic and topic sources", () => {
    assert.deepEqual([...aggregationSourceTopics(registry).keys()].sort(), [
      "bank.payments",
      "strata.chunk.events",
    ]);
  });

  it("writes a topic source's records with their origin, and skips what the consumer dead-letters", () => {
    const decoder = aggregationSourceTopics(registry).get("bank.payments")!;
    const chunk = projectEventChunk(
      "chunk",
      registry,
      decoder,
      "bank.payments",
      2,
      [
        message(7, JSON.stringify({ card_id: 5, amount: 1.5, at: T - 1_000 })),
        message(8, "not json"),
        message(9, JSON.stringify({ card_id: 5, amount: 2, at: T + 10 * 60_000 })),
        message(10, JSON.stringify({ card_id: 6, amount: null, at: new Date(T).toISOString() })),
      ],
      5 * 60_000,
    );
    assert.deepEqual(
      chunk.skipped.map((s) => [s.message.offset, s.error.code]),
      [
        ["8", "STRATA_E_BAD_AGGREGATION_EVENT"],
        ["9", "STRATA_E_EVENT_TIME_IN_FUTURE"],
      ],
    );
    const payloads = chunk.records.map(
      (r) => (JSON.parse(r.value) as { payload: Record<string, unknown> }).payload,
    );
    assert.deepEqual(payloads, [
      {
        strata_table: "strata_chunk.payments_v3",
        card_id: 5,
        amount: 1.5,
        event_timestamp: T - 1_000,
        strata_source_topic: "bank.payments",
        strata_partition: 2,
        strata_offset: 7,
      },
      {
        strata_table: "strata_chunk.payments_v3",
        card_id: 6,
        amount: null,
        event_timestamp: T,
        strata_source_topic: "bank.payments",
        strata_partition: 2,
        strata_offset: 10,
      },
    ]);
    assert.deepEqual([...chunk.byView], [["payments@3", 2]]);
  });
});

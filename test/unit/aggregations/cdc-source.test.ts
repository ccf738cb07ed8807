import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KafkaMessage } from "kafkajs";
import { cdcSourceDecoder } from "../../../shared/aggregations/index.js";
import { isStrataError } from "../../../shared/errors.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";
import { cdcAggregationRepo } from "../../support/cdc-aggregation-repo-module.js";

const registry = new FeatureRegistry(cdcAggregationRepo("p", "txns"));
const TOPIC = "strata.p.cdc.public.txns";
const AT = Date.UTC(2026, 11, 6, 12, 0, 0);

function change(op: string, row: Record<string, unknown> | null, offset = "3"): KafkaMessage {
  const event = {
    op,
    before: op === "d" ? row : null,
    after: op === "d" ? null : row,
    source: {
      ts_ms: AT + 5,
      lsn: 1234,
      snapshot: op === "r" ? "true" : "false",
      db: "strata",
      schema: "public",
      table: "txns",
    },
  };
  return {
    key: null,
    value: Buffer.from(JSON.stringify(event)),
    offset,
    timestamp: String(AT),
    attributes: 0,
    headers: {},
  };
}

const ROW = { id: 1, card: 7, amount: 12.5, at: new Date(AT).toISOString() };

describe("aggregation events from a CDC source's table topic", () => {
  it("reads the table topic of every cdc source an aggregation view names", () => {
    assert.deepEqual(cdcSourceDecoder.topics(registry), [TOPIC]);
  });

  it("makes one event of an insert and of a snapshot read, from the timestamp column", () => {
    for (const op of ["c", "r"]) {
      const [event, ...rest] = cdcSourceDecoder.decode(registry, TOPIC, 2, change(op, ROW, "9"));
      assert.equal(rest.length, 0);
      assert.equal(event!.view.key, "card_spend@1");
      assert.equal(event!.eventTsMs, AT);
      assert.deepEqual(event!.texts, ["12.5"]);
      assert.deepEqual([event!.sourceTopic, event!.partition, event!.offset], [TOPIC, 2, "9"]);
    }
  });

  it("makes no event of an update, a delete or a tombstone", () => {
    assert.deepEqual(cdcSourceDecoder.decode(registry, TOPIC, 0, change("u", ROW)), []);
    assert.deepEqual(cdcSourceDecoder.decode(registry, TOPIC, 0, change("d", ROW)), []);
    const tombstone = { ...change("c", ROW), value: null };
    assert.deepEqual(cdcSourceDecoder.decode(registry, TOPIC, 0, tombstone), []);
  });

  it("refuses a row whose event-time column is not a time, naming the column", () => {
    assert.throws(
      () => cdcSourceDecoder.decode(registry, TOPIC, 0, change("c", { ...ROW, at: "soon" })),
      (error) => isStrataError(error) && error.message.includes("at"),
    );
  });
});

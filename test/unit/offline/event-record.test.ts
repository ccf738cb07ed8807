// An aggregation event as the Kafka Connect record of its view major's event table.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeEntityKey } from "../../../shared/key-codec.js";
import { projectEvent } from "../../../shared/offline/event-record.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";

const registry = new FeatureRegistry({
  project: "ev",
  entities: [{ name: "card", joinKeys: { card_id: "int64", bank: "string" } }],
  views: [],
  aggregationViews: [
    {
      name: "velocity",
      version: "2.1.0",
      entities: ["card"],
      inputs: { amount: "float64", qty: "int64", merchant: "string" },
      source: { push: true },
      aggregations: [
        { name: "n", function: "count", windowMs: 60_000, tileMs: 60_000 },
        {
          name: "last",
          function: "last_n",
          column: "merchant",
          n: 2,
          windowMs: 60_000,
          tileMs: 60_000,
        },
      ],
    },
  ],
});

describe("projectEvent", () => {
  it("writes join keys, inputs in their types, the event time, the origin and the route", () => {
    const view = registry.aggregationView("velocity");
    const record = JSON.parse(
      projectEvent("ev", {
        view,
        entity: encodeEntityKey(view.joinKeys, { card_id: 9007199254740993n, bank: "b:1" }),
        eventTsMs: 1_765_000_000_123,
        texts: ["12.5", "9007199254740993", ""],
        sourceTopic: "strata.ev.events",
        partition: 3,
        offset: "42",
      }),
    ) as {
      schema: { fields: { field: string; type: string; optional: boolean }[] };
      payload: Record<string, unknown>;
    };
    assert.deepEqual(
      record.schema.fields.map((f) => [f.field, f.type, f.optional]),
      [
        ["card_id", "int64", false],
        ["bank", "string", false],
        ["amount", "double", true],
        ["qty", "int64", true],
        ["merchant", "string", true],
        ["event_timestamp", "int64", false],
        ["strata_source_topic", "string", false],
        ["strata_partition", "int32", false],
        ["strata_offset", "int64", false],
        ["strata_table", "string", false],
      ],
    );
    assert.deepEqual(record.payload, {
      strata_table: "strata_ev.velocity_v2",
      card_id: 9007199254740992, // JSON.parse rounds; the text below is exact
      bank: "b:1",
      amount: 12.5,
      qty: 9007199254740992,
      merchant: null,
      event_timestamp: 1_765_000_000_123,
      strata_source_topic: "strata.ev.events",
      strata_partition: 3,
      strata_offset: 42,
    });
  });

  it("keeps int64 values past 2^53 exact in the record's text", () => {
    const view = registry.aggregationView("velocity");
    const text = projectEvent("ev", {
      view,
      entity: encodeEntityKey(view.joinKeys, { card_id: 9007199254740993n, bank: "x" }),
      eventTsMs: 1,
      texts: ["", "9007199254740993", "=shop"],
      sourceTopic: "t",
      partition: 0,
      offset: "9007199254740993",
    });
    assert.match(text, /"card_id":9007199254740993,/);
    assert.match(text, /"qty":9007199254740993,/);
    assert.match(text, /"merchant":"shop",/);
    assert.match(text, /"strata_offset":9007199254740993\}\}$/);
  });
});

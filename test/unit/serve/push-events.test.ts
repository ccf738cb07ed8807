import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_LIMITS } from "../../../functions/serve/config.js";
import { parsePushRequest, type PushContext } from "../../../functions/serve/push-request.js";
import { isStrataError, type ErrorCode } from "../../../shared/errors.js";
import { encodeEntityKey } from "../../../shared/key-codec.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";
import { aggregationsServeRepo } from "../../support/aggregations-serve-repo.js";

const registry = new FeatureRegistry(aggregationsServeRepo("pushevents"));
const context: PushContext = {
  registry,
  limits: DEFAULT_LIMITS,
  region: "eu-west-1",
  hlc: () => ({ wallMs: 1_800_000_000_000, counter: 0 }),
};
const T = Date.UTC(2026, 11, 6, 15);

const push = (name: string, df: Record<string, unknown[]> = {}) => ({
  push_source_name: name,
  df: {
    card_id: ["c1", "c2"],
    amount: [12.5, null],
    merchant: ["cafe", "shop"],
    qty: [1, "9007199254740993"],
    event_timestamp: [T, "2026-12-06 15:00:01"],
    ...df,
  },
});

function fails(body: unknown, code: ErrorCode, named?: string): void {
  assert.throws(
    () => parsePushRequest(body, context),
    (e: unknown) =>
      isStrataError(e, code) && (named === undefined || JSON.stringify(e).includes(named)),
  );
}

describe("pushes to aggregation views", () => {
  it("turn each pushed row into one event of the view, inputs in value-codec text", () => {
    const parsed = parsePushRequest(push("card_txn"), context);
    assert.equal(parsed.rows.length, 0);
    const view = registry.aggregationView("card_txn");
    assert.deepEqual(
      parsed.events.map((e) => {
        const value = JSON.parse(e.message.value!.toString()) as {
          entity: string;
          eventTsMs: number;
          values: unknown;
        };
        assert.equal(e.message.key, `${e.view.key}/${value.entity}`);
        return [e.view.key, value.entity, value.eventTsMs, value.values];
      }),
      [
        [
          "card_txn@1",
          encodeEntityKey(view.joinKeys, { card_id: "c1" }),
          T,
          { amount: "12.5", merchant: "=cafe", qty: "1" },
        ],
        [
          "card_txn@1",
          encodeEntityKey(view.joinKeys, { card_id: "c2" }),
          T + 1_000,
          { merchant: "=shop", qty: "9007199254740993" },
        ],
      ],
    );
  });

  it("write a push source's feature views and aggregation views from the same columns", () => {
    const parsed = parsePushRequest(push("card_push"), context);
    assert.deepEqual(
      parsed.rows.map((r) => [r.view, r.entity, r.values]),
      [
        ["card_last@1", { card_id: "c1" }, { amount: 12.5, merchant: "cafe" }],
        ["card_last@1", { card_id: "c2" }, { amount: null, merchant: "shop" }],
      ],
    );
    assert.equal(parsed.events.length, 2);
  });

  it("reject the whole push for one bad input, naming the row", () => {
    assert.throws(
      () => parsePushRequest(push("card_push", { amount: [1, "lots"] }), context),
      (e: unknown) =>
        isStrataError(e, "STRATA_E_BATCH_REJECTED") &&
        JSON.stringify(e.details.rejected) ===
          JSON.stringify([
            {
              index: 1,
              code: "STRATA_E_VALUE_TYPE",
              message: (e.details.rejected as { message: string }[])[0]!.message,
            },
          ]),
    );
    fails(
      push("card_txn", { card_id: ["c1", 7] }),
      "STRATA_E_BATCH_REJECTED",
      "STRATA_E_ENTITY_KEY_TYPE",
    );
  });

  it("need every input column, and take no column the targets do not have", () => {
    const withoutQty = Object.fromEntries(
      Object.entries(push("card_txn").df).filter(([column]) => column !== "qty"),
    );
    fails(
      { push_source_name: "card_txn", df: withoutQty },
      "STRATA_E_MISSING_FEATURE_VALUE",
      "qty",
    );
    fails(push("card_txn", { colour: ["red", "blue"] }), "STRATA_E_UNKNOWN_FEATURE", "colour");
  });
});

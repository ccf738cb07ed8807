import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isStrataError, type ErrorCode } from "../../../shared/errors.js";
import {
  FeatureRegistry,
  type AggregationViewDefinition,
  type FeatureRepoDefinition,
} from "../../../shared/registry/index.js";

function aggView(): AggregationViewDefinition {
  return {
    name: "card_velocity",
    version: "1.2.0",
    entities: ["card"],
    inputs: { amount: "float64", cents: "int64", merchant: "string" },
    source: { push: true },
    aggregations: [
      { name: "tx_count_1h", function: "count", windowMs: 3_600_000, tileMs: 60_000 },
      { name: "amount_1h", function: "sum", column: "amount", windowMs: 3_600_000, tileMs: 60_000 },
      {
        name: "cents_1d",
        function: "sum",
        column: "cents",
        windowMs: 86_400_000,
        tileMs: 3_600_000,
      },
      { name: "mean_1h", function: "mean", column: "cents", windowMs: 3_600_000, tileMs: 60_000 },
      { name: "max_1h", function: "max", column: "cents", windowMs: 3_600_000, tileMs: 60_000 },
      {
        name: "last_merchants",
        function: "last_n",
        column: "merchant",
        n: 5,
        windowMs: 3_600_000,
        tileMs: 300_000,
      },
    ],
  };
}

function base(): FeatureRepoDefinition {
  return {
    project: "p",
    entities: [{ name: "card", joinKeys: { card_id: "string" } }],
    views: [
      {
        name: "card_profile",
        version: "1.0.0",
        entities: ["card"],
        features: { limit: "float64" },
        maxAgeMs: 1000,
      },
    ],
    aggregationViews: [aggView()],
    services: [{ name: "fraud", features: ["card_velocity:tx_count_1h", "card_profile:limit"] }],
    pushSources: [{ name: "transactions", views: ["card_velocity", "card_profile"] }],
  };
}

function rejects(
  mutate: (view: AggregationViewDefinition, repo: FeatureRepoDefinition) => void,
  code: ErrorCode,
  named: string,
) {
  const definition = base();
  mutate(definition.aggregationViews![0]!, definition);
  assert.throws(
    () => new FeatureRegistry(definition),
    (e: unknown) => isStrataError(e, code) && e.message.includes(named),
  );
}

describe("aggregation views in the registry", () => {
  const registry = new FeatureRegistry(base());

  it("resolves view:agg and view@major:agg refs to the aggregate with its output type", () => {
    const ref = registry.resolveRef("card_velocity:tx_count_1h");
    assert.equal(ref.view.key, "card_velocity@1");
    assert.ok(ref.view.aggregation);
    assert.equal(ref.feature.type, "int64");
    assert.equal(registry.resolveRef("card_velocity@1:amount_1h").feature.type, "float64");
    const types = Object.fromEntries(
      registry.aggregationView("card_velocity").features.map((f) => [f.name, f.type]),
    );
    assert.deepEqual(types, {
      tx_count_1h: "int64",
      amount_1h: "float64",
      cents_1d: "int64",
      mean_1h: "float64",
      max_1h: "int64",
      last_merchants: "string[]",
    });
  });

  it("keeps aggregation views out of views() and in aggregationViews()", () => {
    assert.deepEqual(
      registry.views().map((v) => v.key),
      ["card_profile@1"],
    );
    assert.deepEqual(
      registry.aggregationViews().map((v) => v.key),
      ["card_velocity@1"],
    );
    const spec = registry.aggregationView("card_velocity@1").aggregation;
    assert.equal(spec.allowedLatenessMs, 300_000);
    assert.equal(spec.longestWindowMs, 86_400_000);
    assert.equal(spec.aggregations.find((a) => a.name === "cents_1d")!.integerSum, true);
    assert.equal(spec.aggregations.find((a) => a.name === "amount_1h")!.integerSum, false);
  });

  it("resolves feature services that mix both kinds", () => {
    assert.deepEqual(
      registry.service("fraud").map((r) => [r.view.key, r.feature.name]),
      [
        ["card_velocity@1", "tx_count_1h"],
        ["card_profile@1", "limit"],
      ],
    );
  });

  it("lets push sources and direct pushes name an aggregation view", () => {
    const target = registry.pushTarget("transactions");
    assert.deepEqual(
      target.views.map((v) => v.key),
      ["card_profile@1"],
    );
    assert.deepEqual(
      target.aggregationViews?.map((v) => v.key),
      ["card_velocity@1"],
    );
    const direct = registry.pushTarget("card_velocity");
    assert.deepEqual(direct.views, []);
    assert.deepEqual(
      direct.aggregationViews?.map((v) => v.key),
      ["card_velocity@1"],
    );
  });

  it("refuses writes addressed to an aggregation view by name", () => {
    assert.throws(
      () => registry.viewByRef("card_velocity@1"),
      (e: unknown) => isStrataError(e, "STRATA_E_AGGREGATION_VIEW_UNSUPPORTED"),
    );
  });

  it("reports unknown aggregates and majors", () => {
    assert.throws(
      () => registry.resolveRef("card_velocity:nope"),
      (e: unknown) => isStrataError(e, "STRATA_E_UNKNOWN_FEATURE"),
    );
    assert.throws(
      () => registry.resolveRef("card_velocity@2:tx_count_1h"),
      (e: unknown) => isStrataError(e, "STRATA_E_UNKNOWN_VIEW"),
    );
  });

  it("refuses a name shared with a feature view", () => {
    rejects((v) => (v.name = "card_profile"), "STRATA_E_DUPLICATE_VIEW", "card_profile");
  });

  it("refuses a major registered twice", () => {
    rejects(
      (v, repo) => repo.aggregationViews!.push({ ...v, version: "1.3.0" }),
      "STRATA_E_DUPLICATE_VIEW",
      "card_velocity",
    );
  });

  it("refuses bad windows and tiles", () => {
    const agg = (v: AggregationViewDefinition) => v.aggregations[0]!;
    rejects((v) => (agg(v).windowMs = 30_000), "STRATA_E_BAD_AGGREGATION", "windowMs");
    rejects((v) => (agg(v).windowMs = 31 * 86_400_000), "STRATA_E_BAD_AGGREGATION", "windowMs");
    rejects((v) => (agg(v).tileMs = 7_000), "STRATA_E_BAD_AGGREGATION", "tileMs");
    rejects((v) => (agg(v).tileMs = 1_000), "STRATA_E_BAD_AGGREGATION", "1440");
  });

  it("refuses functions without a fitting column", () => {
    const agg = (v: AggregationViewDefinition) => v.aggregations[1]!;
    rejects((v) => (agg(v).column = "merchant"), "STRATA_E_BAD_AGGREGATION", "numeric");
    rejects((v) => delete agg(v).column, "STRATA_E_BAD_AGGREGATION", "needs a column");
    rejects(
      (v) => (v.aggregations[0]!.column = "amount"),
      "STRATA_E_BAD_AGGREGATION",
      "takes no column",
    );
    rejects(
      (v) => ((v.aggregations[0]!.function as string) = "median"),
      "STRATA_E_BAD_AGGREGATION",
      "median",
    );
    rejects((v) => (v.aggregations[5]!.n = 101), "STRATA_E_BAD_AGGREGATION", "last_n");
    rejects((v) => (v.aggregations[5]!.n = undefined), "STRATA_E_BAD_AGGREGATION", "last_n");
  });

  it("refuses bad inputs, sources and lateness", () => {
    rejects(
      (v) => (v.inputs = { ...v.inputs, card_id: "string" }),
      "STRATA_E_BAD_AGGREGATION",
      "join key",
    );
    rejects((v) => (v.inputs = { ...v.inputs, tags: "string[]" }), "STRATA_E_UNKNOWN_TYPE", "tags");
    rejects((v) => (v.allowedLatenessMs = -1), "STRATA_E_BAD_AGGREGATION", "allowedLatenessMs");
    rejects(
      (v) => (v.source = { topic: "bad topic!", timestampField: "ts" }),
      "STRATA_E_BAD_AGGREGATION",
      "topic",
    );
    rejects(
      (v) => (v.source = { cdc: "cards", keyColumns: {} }),
      "STRATA_E_BAD_AGGREGATION",
      "card_id",
    );
    rejects(
      (v) => (v.aggregations[0]!.name = "event_timestamp"),
      "STRATA_E_BAD_AGGREGATION",
      "event_timestamp",
    );
    rejects(
      (v) => (v.aggregations[1]!.name = "TX_COUNT_1H"),
      "STRATA_E_DUPLICATE_FEATURE",
      "TX_COUNT_1H",
    );
  });

  it("accepts topic and cdc sources", () => {
    const definition = base();
    definition.aggregationViews![0]!.source = { topic: "payments.v1", timestampField: "ts" };
    definition.aggregationViews!.push({
      ...aggView(),
      name: "card_cdc",
      source: { cdc: "cards", keyColumns: { card_id: "id" } },
    });
    const registry = new FeatureRegistry(definition);
    assert.equal(registry.aggregationViews().length, 2);
  });
});

describe("backfill of an aggregation view", () => {
  it("is refused with STRATA_E_AGGREGATION_VIEW_UNSUPPORTED before anything starts", async () => {
    const { refuseAggregationView } =
      await import("../../../shared/backfill/aggregation-refusal.js");
    const registry = new FeatureRegistry(base());
    for (const ref of ["card_velocity", "card_velocity@1"]) {
      assert.throws(
        () => refuseAggregationView(registry, ref),
        (e: unknown) =>
          isStrataError(e, "STRATA_E_AGGREGATION_VIEW_UNSUPPORTED") &&
          e.message.includes("backfill"),
      );
    }
    refuseAggregationView(registry, "card_profile");
  });
});

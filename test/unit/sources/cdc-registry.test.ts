import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isStrataError, type ErrorCode } from "../../../shared/errors.js";
import { FeatureRegistry, type FeatureRepoDefinition } from "../../../shared/registry/index.js";

function base(): FeatureRepoDefinition {
  return {
    project: "p",
    entities: [{ name: "card", joinKeys: { card_id: "int64" } }],
    views: [
      {
        name: "card_profile",
        version: "1.0.0",
        entities: ["card"],
        features: { limit_amount: "float64", status: "string" },
        maxAgeMs: 1000,
        source: {
          cdc: "cards",
          keyColumns: { card_id: "id" },
          columns: { limit_amount: "credit_limit" },
        },
      },
    ],
    cdcSources: [{ name: "cards", database: "local", table: "public.cards" }],
  };
}

function rejects(mutate: (repo: FeatureRepoDefinition) => void, code: ErrorCode, named: string) {
  const definition = base();
  mutate(definition);
  assert.throws(
    () => new FeatureRegistry(definition),
    (e: unknown) => isStrataError(e, code) && e.message.includes(named),
  );
}

describe("cdc sources in the registry", () => {
  it("resolves a view's key and feature columns (default: the feature's name) and the commit time", () => {
    const [source] = new FeatureRegistry(base()).cdcSources();
    assert.equal(source!.table, "public.cards");
    assert.equal(source!.schema, "public");
    assert.equal(source!.tableName, "cards");
    const [mapping] = source!.views;
    assert.equal(mapping!.view.key, "card_profile@1");
    assert.deepEqual(mapping!.keyColumns, ["id"]);
    assert.deepEqual(mapping!.columns, ["credit_limit", "status"]);
    assert.equal(mapping!.eventTime, "commit");
  });

  it("takes an event-time column", () => {
    const repo = base();
    repo.views[0]!.source!.eventTime = { column: "updated_at" };
    const mapping = new FeatureRegistry(repo).cdcSources()[0]!.views[0]!;
    assert.deepEqual(mapping.eventTime, { column: "updated_at" });
  });

  it("refuses a source name outside [a-z0-9_]", () => {
    rejects((r) => (r.cdcSources![0]!.name = "Cards"), "STRATA_E_INVALID_NAME", "Cards");
  });

  it("refuses a source declared twice", () => {
    rejects(
      (r) => r.cdcSources!.push({ name: "cards", database: "local", table: "public.x" }),
      "STRATA_E_DUPLICATE_CDC_SOURCE",
      "cards",
    );
  });

  it("refuses a view naming an undeclared source", () => {
    rejects((r) => (r.views[0]!.source!.cdc = "nope"), "STRATA_E_UNKNOWN_CDC_SOURCE", "nope");
  });

  it("refuses a table that is not <schema>.<table>", () => {
    rejects((r) => (r.cdcSources![0]!.table = "cards"), "STRATA_E_BAD_CDC_SOURCE", "cards");
  });

  it("refuses a join key without a column, or a column for a key the view lacks", () => {
    rejects((r) => (r.views[0]!.source!.keyColumns = {}), "STRATA_E_BAD_CDC_SOURCE", "card_id");
    rejects(
      (r) => (r.views[0]!.source!.keyColumns = { card_id: "id", other: "x" }),
      "STRATA_E_BAD_CDC_SOURCE",
      "other",
    );
  });

  it("refuses a column mapping for a feature the view does not have, or a bad column", () => {
    rejects(
      (r) => (r.views[0]!.source!.columns = { missing: "x" }),
      "STRATA_E_BAD_CDC_SOURCE",
      "missing",
    );
    rejects(
      (r) => (r.views[0]!.source!.columns = { status: "drop table" }),
      "STRATA_E_BAD_CDC_SOURCE",
      "drop table",
    );
  });

  it("refuses an event time that is neither commit nor a column", () => {
    rejects(
      (r) => (r.views[0]!.source!.eventTime = "now" as "commit"),
      "STRATA_E_BAD_CDC_SOURCE",
      "now",
    );
  });
});

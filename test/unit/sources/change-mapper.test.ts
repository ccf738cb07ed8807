import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isStrataError } from "../../../shared/errors.js";
import { FeatureRegistry } from "../../../shared/registry/index.js";
import { cdcVersion, mapChange } from "../../../shared/sources/change-mapper.js";
import { columnValue } from "../../../shared/sources/column-value.js";
import type { DebeziumChangeEvent } from "../../../shared/sources/debezium-event.js";
import { compareVersions, encodeVersion } from "../../../shared/versions/index.js";
import { cdcTestRepo } from "../../support/cdc-repo.js";

const registry = new FeatureRegistry(cdcTestRepo("p", "cards"));
const source = registry.cdcSources()[0]!;

function event(op: DebeziumChangeEvent["op"], row: Record<string, unknown>, lsn = 100n) {
  return {
    op,
    before: op === "d" ? row : null,
    after: op === "d" ? null : row,
    source: {
      tsMs: 1_765_000_000_000,
      lsn,
      snapshot: op === "r",
      snapshotMarker: op === "r" ? "true" : "false",
      db: "strata",
      schema: "public",
      table: "cards",
    },
  } satisfies DebeziumChangeEvent;
}

describe("the version of a change", () => {
  it("orders by commit time, then by LSN, as 64-bit LSNs compare", () => {
    const lsn = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    const ts = fc.integer({ min: 0, max: 2 ** 47 });
    fc.assert(
      fc.property(ts, lsn, ts, lsn, (t1, l1, t2, l2) => {
        const order = compareVersions(cdcVersion(t1, l1, "local"), cdcVersion(t2, l2, "local"));
        const expected = t1 !== t2 ? Math.sign(t1 - t2) : l1 === l2 ? 0 : l1 < l2 ? -1 : 1;
        assert.equal(Math.sign(order), expected);
        // The encoded form the CAS compares keeps the same order.
        const a = encodeVersion(cdcVersion(t1, l1, "local"));
        const b = encodeVersion(cdcVersion(t2, l2, "local"));
        assert.equal(a < b ? -1 : a > b ? 1 : 0, expected);
      }),
    );
  });
});

describe("mapping a change event to writes", () => {
  it("writes the row's features from their columns; a missing column is null", () => {
    const [row] = mapChange(
      event("u", { id: 7, credit_limit: "12.50", status: "ok" }),
      source,
      "local",
    );
    assert.deepEqual(row!.entity, { card_id: 7 });
    assert.deepEqual(row!.values, { limit_amount: 12.5, status: "ok", nickname: null });
    assert.equal(row!.view, "card_profile@1");
    assert.equal(row!.deleted, undefined);
    assert.deepEqual(row!.version, cdcVersion(1_765_000_000_000, 100n, "local"));
  });

  it("ignores columns no feature maps", () => {
    const [row] = mapChange(
      event("c", { id: 7, credit_limit: "1", status: "x", nickname: "n", extra: 5 }),
      source,
      "local",
    );
    assert.deepEqual(row!.values, { limit_amount: 1, status: "x", nickname: "n" });
  });

  it("makes a delete of a delete event, keyed by its old row", () => {
    const [row] = mapChange(
      event("d", { id: 7, credit_limit: null, status: null }),
      source,
      "local",
    );
    assert.deepEqual(row, {
      view: "card_profile@1",
      entity: { card_id: 7 },
      values: {},
      version: cdcVersion(1_765_000_000_000, 100n, "local"),
      deleted: true,
    });
  });

  it("refuses a change without its key column, and an unchanged TOASTed value", () => {
    for (const row of [
      { credit_limit: "1", status: "x" },
      { id: 1, credit_limit: "1", status: "__debezium_unavailable_value" },
    ]) {
      assert.throws(
        () => mapChange(event("u", row), source, "local"),
        (e: unknown) => isStrataError(e, "STRATA_E_CDC_UNMAPPABLE"),
      );
    }
  });

  it("takes the event time from the view's column when it names one", () => {
    const repo = cdcTestRepo("p", "cards");
    repo.views[0]!.source!.eventTime = { column: "updated_at" };
    const withColumn = new FeatureRegistry(repo).cdcSources()[0]!;
    const [row] = mapChange(
      event("u", { id: 1, credit_limit: "1", status: "x", updated_at: "2025-12-06T10:00:00Z" }),
      withColumn,
      "local",
    );
    assert.equal(row!.version.eventTsMs, Date.parse("2025-12-06T10:00:00Z"));
    // A delete without the column (default replica identity) takes the commit time.
    const [gone] = mapChange(event("d", { id: 1 }), withColumn, "local");
    assert.equal(gone!.version.eventTsMs, 1_765_000_000_000);
  });
});

describe("column values", () => {
  it("reads Debezium's representations as the feature types", () => {
    assert.equal(columnValue("12.50", "float64", "c"), 12.5);
    assert.equal(columnValue("12", "int64", "c"), 12);
    assert.equal(columnValue("12.00", "int32", "c"), 12);
    assert.equal(columnValue("9007199254740993", "int64", "c"), 9007199254740993n);
    assert.equal(columnValue("2025-12-06T10:00:00.5Z", "unix_timestamp", "c"), 1765015200500);
    assert.equal(columnValue(1765015200500, "unix_timestamp", "c"), 1765015200500);
    assert.deepEqual(columnValue("AQI=", "bytes", "c"), Buffer.from([1, 2]));
    assert.deepEqual(columnValue(["1", "2.5"], "float64[]", "c"), [1, 2.5]);
    assert.equal(columnValue(null, "string", "c"), null);
    assert.equal(columnValue(7, "string", "c"), "7");
  });

  it("refuses what cannot be the type", () => {
    for (const [value, type] of [
      ["abc", "float64"],
      ["1.5", "int64"],
      ["yes", "bool"],
      ["not a time", "unix_timestamp"],
      [1, "int64[]"],
    ] as const) {
      assert.throws(
        () => columnValue(value, type, "c"),
        (e: unknown) => isStrataError(e, "STRATA_E_CDC_UNMAPPABLE"),
        `${String(value)} as ${type}`,
      );
    }
  });
});

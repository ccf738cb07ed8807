import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  decodeChangelogRecord,
  encodeChangelogRecord,
  recordKey,
  type ChangelogRecordV1,
} from "../../../shared/changelog/record.js";
import { isStrataError, type ErrorCode } from "../../../shared/errors.js";
import { prepareWrites, type WriteRow } from "../../../shared/online-store/write-path.js";
import { defineRepo, FeatureRegistry } from "../../../shared/registry/index.js";
import { testRepo } from "../../support/store.js";

const registry = new FeatureRegistry(testRepo("records"));

const row = (overrides: Partial<WriteRow> = {}): WriteRow => ({
  view: "stats@2",
  entity: { driver_id: 7 },
  values: { rate: 0.25, trips: 3, label: "a:b{c}", tags: ["x", "y"] },
  version: {
    eventTsMs: 1_700_000_000_000,
    epoch: 0,
    hlc: { wallMs: 1_700_000_000_001, counter: 2 },
    originRegion: "eu-west-1",
  },
  ...overrides,
});

function encoded(r: WriteRow = row()): { key: string; value: string } {
  return encodeChangelogRecord(prepareWrites(registry, [r])[0]!);
}

function rejects(key: string | undefined, value: string | undefined, code: ErrorCode): void {
  assert.throws(
    () => decodeChangelogRecord(registry, key, value),
    (e: unknown) => isStrataError(e, code),
    `${value} should be rejected with ${code}`,
  );
}

describe("changelog record, schema 1", () => {
  it("is keyed by view major and entity, and carries a schema version", () => {
    const { key, value } = encoded();
    assert.equal(key, "stats@2/i7");
    const parsed = JSON.parse(value) as Record<string, unknown>;
    assert.equal(parsed.schema, 1);
    assert.equal(parsed.view, "stats");
    assert.equal(parsed.major, 2);
    assert.deepEqual(parsed.values, {
      rate: "0.25",
      trips: "3",
      label: "=a:b{c}",
      tags: '["x","y"]',
    });
  });

  it("decodes to exactly the write that was encoded, for any valid row", () => {
    const rows = fc.record({
      driver: fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
      rate: fc.oneof(fc.double(), fc.constant(null)),
      trips: fc.oneof(fc.maxSafeInteger(), fc.constant(null)),
      label: fc.oneof(fc.string({ unit: "grapheme" }), fc.constant(null)),
      eventTsMs: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
      counter: fc.integer({ min: 0, max: 0xffff }),
    });
    fc.assert(
      fc.property(rows, (r) => {
        const write = prepareWrites(registry, [
          {
            view: "stats@1",
            entity: { driver_id: r.driver },
            values: { rate: r.rate, trips: r.trips, label: r.label },
            version: {
              eventTsMs: r.eventTsMs,
              epoch: 1,
              hlc: { wallMs: r.eventTsMs, counter: r.counter },
              originRegion: "r1",
            },
          },
        ])[0]!;
        const { key, value } = encodeChangelogRecord(write);
        const decoded = decodeChangelogRecord(registry, key, value);
        assert.equal(decoded.redisKey, write.redisKey);
        assert.equal(decoded.encodedVersion, write.encodedVersion);
        assert.equal(decoded.encodedClock, write.encodedClock);
        assert.deepEqual(decoded.values, write.values);
        assert.equal(decoded.view, write.view);
      }),
      { numRuns: 2_000 },
    );
  });

  it("is written exactly as JSON.stringify would write the record object", () => {
    const text = fc.string({ unit: "binary" });
    fc.assert(
      fc.property(text, text, fc.integer({ min: 0, max: 2 ** 48 - 1 }), (label, tag, ts) => {
        const write = prepareWrites(registry, [
          row({
            values: { rate: ts / 7, trips: ts, label, tags: [tag] },
            version: {
              eventTsMs: ts,
              epoch: 3,
              hlc: { wallMs: ts, counter: 9 },
              originRegion: "eu-west-1",
            },
          }),
        ])[0]!;
        const expected: ChangelogRecordV1 = {
          schema: 1,
          view: write.view.name,
          major: write.view.major,
          entity: write.encodedKey,
          version: {
            eventTsMs: ts,
            epoch: 3,
            hlc: { wallMs: ts, counter: 9 },
            originRegion: "eu-west-1",
          },
          clock: write.encodedClock,
          values: Object.fromEntries(write.view.features.map((f, i) => [f.name, write.values[i]!])),
        };
        assert.equal(encodeChangelogRecord(write).value, JSON.stringify(expected));
      }),
      { numRuns: 1_000 },
    );
  });

  it("rejects what it cannot trust, each with its own code", () => {
    const { key, value } = encoded();
    const record = JSON.parse(value) as Record<string, unknown>;
    const variant = (change: Record<string, unknown>) => JSON.stringify({ ...record, ...change });
    rejects(key, undefined, "STRATA_E_BAD_RECORD");
    rejects(key, "{not json", "STRATA_E_BAD_RECORD");
    rejects(key, "[1]", "STRATA_E_BAD_RECORD");
    rejects(key, variant({ schema: 2 }), "STRATA_E_UNSUPPORTED_SCHEMA");
    rejects(key, variant({ schema: "1" }), "STRATA_E_BAD_RECORD");
    rejects("nope@1/i7", variant({ view: "nope", major: 1 }), "STRATA_E_UNKNOWN_VIEW");
    rejects(key, variant({ major: 9 }), "STRATA_E_UNKNOWN_VIEW");
    rejects(recordKey("stats@2", "sx"), variant({ entity: "sx" }), "STRATA_E_ENTITY_KEY_TYPE");
    rejects(recordKey("stats@2", "i7:i8"), variant({ entity: "i7:i8" }), "STRATA_E_BAD_ENTITY_KEY");
    rejects(recordKey("stats@2", "q7"), variant({ entity: "q7" }), "STRATA_E_BAD_ENTITY_KEY");
    rejects(recordKey("stats@2", "i07"), variant({ entity: "i07" }), "STRATA_E_BAD_ENTITY_KEY");
    rejects(recordKey("stats@2", "i-0"), variant({ entity: "i-0" }), "STRATA_E_BAD_ENTITY_KEY");
    for (const other of [
      "stats@2/i8",
      "stats@3/i7",
      "stats@2xi7",
      "stats@2/i7 ",
      "/i7",
      undefined,
    ]) {
      rejects(other, value, "STRATA_E_BAD_RECORD");
    }
    rejects(key, variant({ version: { eventTsMs: -1 } }), "STRATA_E_BAD_WRITE_VERSION");
    rejects(key, variant({ clock: "EU:zz" }), "STRATA_E_BAD_RECORD");
    const values = record.values as Record<string, string>;
    rejects(key, variant({ values: { ...values, rate: "fast" } }), "STRATA_E_VALUE_TYPE");
    rejects(key, variant({ values: { ...values, rate: "1e400" } }), "STRATA_E_VALUE_TYPE");
    rejects(key, variant({ values: { ...values, trips: "1.5" } }), "STRATA_E_VALUE_TYPE");
    rejects(key, variant({ values: { ...values, tags: "[1" } }), "STRATA_E_VALUE_TYPE");
    rejects(key, variant({ values: { ...values, "not a name": "1" } }), "STRATA_E_UNKNOWN_FEATURE");
    rejects(key, variant({ values: { ...values, rate: 0.5 } }), "STRATA_E_VALUE_TYPE");
    rejects(key, variant({ values: { ...values, rate: null } }), "STRATA_E_VALUE_TYPE");
  });

  it("takes a record of another minor version: ignores a feature it does not know, writes only those it carries", () => {
    const { key, value } = encoded();
    const record = JSON.parse(value) as ChangelogRecordV1;
    const newer = JSON.stringify({ ...record, values: { ...record.values, surge: "1.5" } });
    const fromNewer = decodeChangelogRecord(registry, key, newer);
    assert.deepEqual(fromNewer.ignoredFeatures, ["surge"]);
    assert.equal(fromNewer.features, undefined);
    assert.deepEqual(fromNewer.values, ["0.25", "3", "=a:b{c}", '["x","y"]']);

    const older: Record<string, string> = { ...record.values };
    delete older.rate;
    delete older.label;
    const fromOlder = decodeChangelogRecord(
      registry,
      key,
      JSON.stringify({ ...record, values: older }),
    );
    assert.deepEqual(fromOlder.features, [1, 3]); // trips and tags, in the view's order
    assert.deepEqual(fromOlder.values, ["3", '["x","y"]']);
    assert.equal(fromOlder.ignoredFeatures, undefined);
    // Still typed: a known feature with a value of the wrong type is dead-lettered.
    rejects(
      key,
      JSON.stringify({ ...record, values: { ...older, trips: "1.5" } }),
      "STRATA_E_VALUE_TYPE",
    );
  });

  it("keeps the writer strict: an unknown or missing feature still rejects a written row", () => {
    const extra = row({ values: { ...row().values, surge: 1.5 } });
    const missing = { ...row().values };
    delete missing.rate;
    for (const [bad, code] of [
      [extra, "STRATA_E_UNKNOWN_FEATURE"],
      [row({ values: missing }), "STRATA_E_MISSING_FEATURE_VALUE"],
    ] as const) {
      assert.throws(
        () => prepareWrites(registry, [bad]),
        (e: unknown) =>
          isStrataError(e, "STRATA_E_BATCH_REJECTED") &&
          (e.details as { rejected: { code: string }[] }).rejected[0]!.code === code,
      );
    }
  });

  it("refuses number text that only decodes to NaN or an infinity, and keeps those written by name", () => {
    const lists = new FeatureRegistry(
      defineRepo({
        project: "records_lists",
        entities: [{ name: "item", joinKeys: { item_id: "int64" } }],
        views: [
          {
            name: "scores",
            version: "1.0.0",
            entities: ["item"],
            features: { best: "float64", all: "float64[]" },
            maxAgeMs: 60_000,
          },
        ],
      }),
    );
    const [write] = prepareWrites(lists, [
      {
        view: "scores",
        entity: { item_id: 1 },
        values: { best: Infinity, all: [1, NaN, -Infinity] },
        version: row().version,
      },
    ]);
    const { key, value } = encodeChangelogRecord(write!);
    assert.deepEqual(decodeChangelogRecord(lists, key, value).values, [
      "Infinity",
      "[1,NaN,-Infinity]",
    ]);
    const record = JSON.parse(value) as { values: Record<string, string> };
    for (const [feature, text] of [
      ["best", "1e400"],
      ["all", "[1,x]"],
      ["all", "[1e400]"],
    ] as const) {
      const bad = JSON.stringify({ ...record, values: { ...record.values, [feature]: text } });
      assert.throws(
        () => decodeChangelogRecord(lists, key, bad),
        (e: unknown) => isStrataError(e, "STRATA_E_VALUE_TYPE"),
        `${feature} = ${text}`,
      );
    }
  });

  it("keeps a float written as NaN, and nulls", () => {
    const { key, value } = encoded(
      row({ values: { rate: NaN, trips: null, label: null, tags: null } }),
    );
    const decoded = decodeChangelogRecord(registry, key, value);
    assert.deepEqual(decoded.values, ["NaN", "", "", ""]);
  });
});

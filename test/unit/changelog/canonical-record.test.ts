import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  readCanonicalRecord,
  type CanonicalRecord,
} from "../../../shared/changelog/canonical-record.js";
import { decodeChangelogRecord, encodeChangelogRecord } from "../../../shared/changelog/record.js";
import { prepareWrites, type WriteRow } from "../../../shared/online-store/write-path.js";
import { FeatureRegistry, type ResolvedView } from "../../../shared/registry/index.js";
import { testRepo } from "../../support/store.js";

const registry = new FeatureRegistry(testRepo("canonical"));

/** What the record format says precedes each value: `"<feature>":`, a comma before all but the first. */
const lookup = (name: string, major: number) => {
  const view = registry.findView(name, major);
  return (
    view && {
      view,
      valuePrefixes: view.features.map((f, i) => `${i === 0 ? "" : ","}${JSON.stringify(f.name)}:`),
    }
  );
};

/** The object JSON.parse gives for a record the reader read. */
function asParsedJson(record: CanonicalRecord<ResolvedView>): unknown {
  return {
    schema: 1,
    view: record.view.name,
    major: record.view.major,
    entity: record.entity,
    version: record.version,
    clock: record.clock,
    values: Object.fromEntries(record.view.features.map((f, i) => [f.name, record.values[i]])),
  };
}

/** Any valid row of any view, with strings that need escaping in JSON among them. */
const rows: fc.Arbitrary<WriteRow> = fc
  .record({
    which: fc.constantFrom("stats@1", "stats@2", "rider_profile"),
    id: fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
    text: fc.string({ unit: "binary" }),
    number: fc.oneof(fc.double(), fc.constant(null)),
    eventTsMs: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
    epoch: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    counter: fc.integer({ min: 0, max: 0xffff }),
    region: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
  })
  .map((r): WriteRow => {
    const version = {
      eventTsMs: r.eventTsMs,
      epoch: r.epoch,
      hlc: { wallMs: r.eventTsMs, counter: r.counter },
      originRegion: r.region,
    };
    if (r.which === "rider_profile") {
      return {
        view: r.which,
        entity: { rider_id: r.text, city: String(r.id) },
        values: { score: r.number === null ? null : Math.fround(r.number), vip: true, blob: null },
        version,
      };
    }
    return {
      view: r.which,
      entity: { driver_id: r.id },
      values: {
        rate: r.number,
        trips: 3,
        label: r.text,
        ...(r.which === "stats@2" && { tags: [r.text] }),
      },
      version,
    };
  });

const encode = (row: WriteRow) => encodeChangelogRecord(prepareWrites(registry, [row])[0]!);

describe("the canonical record reader", () => {
  it("reads every record the writer encodes without escapes, as JSON.parse would", () => {
    fc.assert(
      fc.property(rows, (row) => {
        const { value } = encode(row);
        const read = readCanonicalRecord(value, lookup);
        // Escaped strings are JSON.parse's to read; everything else is the fast path's.
        if (value.includes("\\")) return;
        assert.ok(read, `not read: ${value}`);
        assert.deepEqual(asParsedJson(read), JSON.parse(value));
      }),
      { numRuns: 500 },
    );
  });

  it("returns what JSON.parse returns, or nothing, for any edit of a record", () => {
    // Edits that turn a record into almost-canonical text: whitespace, escapes, signs, leading
    // zeros, fractions, reordered or doubled fields, cut or extra text.
    const pieces = fc.constantFrom(
      " ",
      '"',
      "\\",
      "0",
      "00",
      "1",
      "-",
      ".5",
      "e3",
      ",",
      ":",
      "{",
      "}",
      "\u0001",
      '"x":"1"',
      "\u2028",
    );
    const edits = fc.array(
      fc.record({
        at: fc.nat(),
        cut: fc.nat({ max: 4 }),
        insert: fc.oneof(pieces, fc.string({ maxLength: 3 })),
      }),
      { minLength: 1, maxLength: 3 },
    );
    fc.assert(
      fc.property(rows, edits, (row, changes) => {
        let text = encode(row).value;
        for (const { at, cut, insert } of changes) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + insert + text.slice(i + cut);
        }
        const read = readCanonicalRecord(text, lookup);
        if (read === undefined) return;
        assert.deepEqual(asParsedJson(read), JSON.parse(text), `read differently: ${text}`);
      }),
      { numRuns: 3000 },
    );
  });

  it("leaves records of unknown views, other layouts and other schemas to JSON.parse", () => {
    const { value } = encode({
      view: "stats@1",
      entity: { driver_id: 7 },
      values: { rate: 0.5, trips: 3, label: "a" },
      version: {
        eventTsMs: 1_700_000_000_000,
        epoch: 0,
        hlc: { wallMs: 1_700_000_000_000, counter: 0 },
        originRegion: "eu-west-1",
      },
    });
    assert.ok(readCanonicalRecord(value, lookup));
    const parsed = JSON.parse(value) as Record<string, unknown>;
    for (const text of [
      value.replace('"view":"stats"', '"view":"nope"'),
      value.replace('"major":1', '"major":9'),
      value.replace('"schema":1', '"schema":2'),
      JSON.stringify(parsed, null, 1),
      JSON.stringify({ ...parsed, values: { trips: "3", rate: "0.5", label: "=a" } }),
      `${value} `,
    ]) {
      assert.equal(readCanonicalRecord(text, lookup), undefined, text);
    }
  });

  it("decodes a record to the same write whichever reader reads it", () => {
    fc.assert(
      fc.property(rows, (row) => {
        const { key, value } = encode(row);
        // Pretty-printed: the same record, for JSON.parse only.
        const pretty = JSON.stringify(JSON.parse(value), null, 2);
        assert.equal(readCanonicalRecord(pretty, lookup), undefined);
        assert.deepEqual(
          decodeChangelogRecord(registry, key, value),
          decodeChangelogRecord(registry, key, pretty),
        );
      }),
      { numRuns: 300 },
    );
  });
});

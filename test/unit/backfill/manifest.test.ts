import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ManifestSum } from "../../../shared/backfill/manifest.js";

const row = fc.record({
  key: fc.string({ maxLength: 20 }),
  eventTsMs: fc.integer({ min: 0, max: 2 ** 40 }),
  values: fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }),
});

const sumOf = (rows: { key: string; eventTsMs: number; values: string[] }[]) => {
  const sum = new ManifestSum();
  for (const r of rows) sum.add(r.key, r.eventTsMs, r.values);
  return sum.manifest();
};

test("the manifest checksum does not depend on row order", () => {
  fc.assert(
    fc.property(fc.array(row, { maxLength: 40 }), fc.integer(), (rows, seed) => {
      const shuffled = [...rows].sort(
        (a, b) => ((a.eventTsMs * 31 + seed) % 97) - ((b.eventTsMs * 31 + seed) % 97),
      );
      assert.deepEqual(sumOf(shuffled), sumOf(rows));
    }),
    { numRuns: 500 },
  );
});

test("a changed, missing or extra row changes the manifest", () => {
  fc.assert(
    fc.property(fc.array(row, { minLength: 1, maxLength: 30 }), (rows) => {
      const base = sumOf(rows);
      const changed = rows.map((r, i) => (i === 0 ? { ...r, values: [...r.values, "x"] } : r));
      assert.notEqual(sumOf(changed).checksum, base.checksum);
      assert.notDeepEqual(sumOf(rows.slice(1)), base);
      assert.notDeepEqual(sumOf([...rows, rows[0]!]), base);
    }),
    { numRuns: 300 },
  );
});

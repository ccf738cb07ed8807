import assert from "node:assert/strict";
import { describe, it } from "node:test";
import calculateSlot from "cluster-key-slot";
import fc from "fast-check";
import { drillDown, SlotDigests, SLOT_COUNT } from "../../../shared/reconcile/index.js";

/** A region's rows of one view: Redis key → stored version text. */
type Rows = Map<string, string>;

function digestOf(rows: Rows, order: readonly string[] = [...rows.keys()]): SlotDigests {
  const table = new SlotDigests();
  for (const key of order) table.add(calculateSlot(key), key, rows.get(key)!);
  return table;
}

/** What reconcile does with two tables: drill down to slots, then compare keys in them. */
function divergentKeys(left: Rows, right: Rows): { keys: string[]; rangesCompared: number } {
  const a = digestOf(left);
  const b = digestOf(right);
  const { slots, rangesCompared } = drillDown(
    (from, to) => a.range(from, to),
    (from, to) => b.range(from, to),
  );
  const inSlots = new Set(slots);
  const keys = [...new Set([...left.keys(), ...right.keys()])]
    .filter((key) => inSlots.has(calculateSlot(key)))
    .filter((key) => left.get(key) !== right.get(key));
  return { keys: keys.sort(), rangesCompared };
}

function symmetricDifference(left: Rows, right: Rows): string[] {
  return [...new Set([...left.keys(), ...right.keys()])]
    .filter((key) => left.get(key) !== right.get(key))
    .sort();
}

const key = fc
  .oneof(
    fc.integer({ min: 0, max: 5_000 }).map((n) => `i${n}`),
    fc.string({ maxLength: 6 }).map((s) => `s${s}`),
  )
  .map((encoded) => `fs:{p:driver:${encoded}}`);
const version = fc.constantFrom(
  "019ac0f1f00000000000019ac0f1f0000000east",
  "019ac0f1f00100000000019ac0f1f0010000east",
  "019ac0f1f00100000000019ac0f1f0010000west",
);
const rows = fc.dictionary(key, version, { maxKeys: 300 }).map((o) => new Map(Object.entries(o)));

describe("reconcile digests and drill-down", () => {
  it("finds exactly the keys whose (key, version) differ: the symmetric difference", () => {
    fc.assert(
      fc.property(
        rows,
        rows,
        fc.array(fc.tuple(key, version), { maxLength: 20 }),
        (base, other, edits) => {
          // Two regions: mostly the same rows, with some edits, plus a fully random pair.
          const right = new Map(base);
          for (const [k, v] of edits) right.set(k, v);
          for (const [k] of edits.slice(0, 3)) right.delete(k);
          assert.deepEqual(divergentKeys(base, right).keys, symmetricDifference(base, right));
          assert.deepEqual(divergentKeys(base, other).keys, symmetricDifference(base, other));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("gives the same digests whatever order keys are added in", () => {
    fc.assert(
      fc.property(
        rows.chain((r) =>
          fc.tuple(fc.constant(r), fc.shuffledSubarray([...r.keys()], { minLength: r.size })),
        ),
        ([r, order]) => {
          const a = digestOf(r);
          const b = digestOf(r, order);
          assert.deepEqual(a.range(0, SLOT_COUNT), b.range(0, SLOT_COUNT));
          assert.deepEqual(
            drillDown(
              (f, t) => a.range(f, t),
              (f, t) => b.range(f, t),
            ).slots,
            [],
          );
        },
      ),
    );
  });

  it("tells a changed version from the same key, not only a changed key count", () => {
    const left: Rows = new Map([["fs:{p:driver:i1}", "019ac0f1f00000000000019ac0f1f0000000east"]]);
    const right: Rows = new Map([["fs:{p:driver:i1}", "019ac0f1f00000000000019ac0f1f0000000west"]]);
    assert.deepEqual(divergentKeys(left, right).keys, ["fs:{p:driver:i1}"]);
  });

  it("looks into few ranges when few keys differ", () => {
    const left: Rows = new Map();
    for (let i = 0; i < 20_000; i++)
      left.set(`fs:{p:driver:i${i}}`, "019ac0f1f00000000000019ac0f1f0000000east");
    const right = new Map(left);
    right.set("fs:{p:driver:i77}", "019ac0f1f00100000000019ac0f1f0010000east");
    const { keys, rangesCompared } = divergentKeys(left, right);
    assert.deepEqual(keys, ["fs:{p:driver:i77}"]);
    // One path down a 16-way tree of 16,384 slots: 1 + 16 per level below the root.
    assert.ok(rangesCompared <= 1 + 16 * 4, `compared ${rangesCompared} ranges`);
  });
});

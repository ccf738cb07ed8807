import assert from "node:assert/strict";
import { describe, it } from "node:test";
import calculateSlot from "cluster-key-slot";
import fc from "fast-check";
import { groupCasCalls, ROWS_PER_CAS_CALL } from "../../../shared/online-store/cas-calls.js";

// Keys as the store makes them, from a small set of entities so that keys repeat.
const keys = fc.array(
  fc.integer({ min: 0, max: 300 }).map((id) => `fs:{p:driver:i${id}}`),
  { maxLength: 600 },
);

function assertPartition(calls: number[][], count: number): void {
  const seen = calls.flat().sort((a, b) => a - b);
  assert.deepEqual(
    seen,
    Array.from({ length: count }, (_, i) => i),
    "every row exactly once",
  );
  for (const call of calls) {
    assert.ok(call.length >= 1 && call.length <= ROWS_PER_CAS_CALL, `call of ${call.length}`);
    assert.deepEqual(
      call,
      [...call].sort((a, b) => a - b),
      "rows in their original order",
    );
  }
}

describe("CAS calls: rows grouped into script calls", () => {
  it("on a standalone server, consecutive rows, at most the call size each", () => {
    fc.assert(
      fc.property(keys, (all) => {
        const calls = groupCasCalls(all, false);
        assertPartition(calls, all.length);
        assert.equal(calls.length, Math.ceil(all.length / ROWS_PER_CAS_CALL));
      }),
    );
  });

  it("on a cluster, one hash slot per call, and rows of one key in their order", () => {
    fc.assert(
      fc.property(keys, (all) => {
        const calls = groupCasCalls(all, true);
        assertPartition(calls, all.length);
        for (const call of calls) {
          const slots = new Set(call.map((i) => calculateSlot(all[i]!)));
          assert.equal(slots.size, 1, "one slot per call");
        }
        // Rows of one key: the calls holding them come in the rows' order.
        const callOf = new Map<number, number>();
        calls.forEach((call, c) => call.forEach((i) => callOf.set(i, c)));
        const lastCall = new Map<string, number>();
        all.forEach((key, i) => {
          const c = callOf.get(i)!;
          assert.ok(c >= (lastCall.get(key) ?? -1), `row ${i} of ${key} after its predecessors`);
          lastCall.set(key, c);
        });
      }),
    );
  });
});

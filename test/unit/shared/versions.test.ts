import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  compareHlc,
  compareVersions,
  decodeClockVector,
  decodeVersion,
  encodeClockVector,
  encodeVersion,
  HybridLogicalClock,
  mergeClocks,
  relateClocks,
  areConcurrent,
  knewOf,
  SeenVector,
  validateVersion,
  type ClockVector,
  type Version,
} from "../../../shared/versions/index.js";
import { isStrataError } from "../../../shared/errors.js";
import { hex48 } from "../../../shared/versions/hex48.js";

const region = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,12}$/);
// Plain prototypes (not fast-check's default null ones), so deepEqual compares like with like.
const plain = { noNullPrototype: true } as const;
const hlc = fc.record(
  {
    wallMs: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
    counter: fc.integer({ min: 0, max: 0xffff }),
  },
  plain,
);
// Small ranges too, so that ties on the leading parts (and so the later parts) really get compared.
const version: fc.Arbitrary<Version> = fc.record(
  {
    eventTsMs: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 ** 48 - 1 })),
    epoch: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
    hlc: fc.oneof(
      fc.record(
        { wallMs: fc.integer({ min: 0, max: 2 }), counter: fc.integer({ min: 0, max: 2 }) },
        plain,
      ),
      hlc,
    ),
    originRegion: fc.oneof(fc.constantFrom("eu-west-1", "us-east-1", "us-east"), region),
  },
  plain,
);
const clockVector: fc.Arbitrary<ClockVector> = fc.dictionary(
  fc.constantFrom("a", "b", "c", "eu-1"),
  hlc,
  { maxKeys: 4, ...plain },
);

describe("versions", () => {
  it("encode to strings whose order is the tuple order", () => {
    fc.assert(
      fc.property(version, version, (a, b) => {
        const byTuple = Math.sign(compareVersions(a, b));
        const ea = encodeVersion(a);
        const eb = encodeVersion(b);
        assert.equal(ea < eb ? -1 : ea > eb ? 1 : 0, byTuple);
      }),
      { numRuns: 2_000 },
    );
  });

  it("round-trip through their encoding", () => {
    fc.assert(fc.property(version, (v) => assert.deepEqual(decodeVersion(encodeVersion(v)), v)));
  });

  it("are a total order: antisymmetric and transitive", () => {
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        assert.equal(Math.sign(compareVersions(a, b)), -Math.sign(compareVersions(b, a)));
        if (compareVersions(a, b) <= 0 && compareVersions(b, c) <= 0)
          assert.ok(compareVersions(a, c) <= 0);
      }),
    );
  });

  it("rank a backfill correction above the live value of the same event, never above a newer event", () => {
    const live: Version = {
      eventTsMs: 1000,
      epoch: 0,
      hlc: { wallMs: 9_000, counter: 0 },
      originRegion: "us-east-1",
    };
    const backfill: Version = { ...live, epoch: 3, hlc: { wallMs: 1, counter: 0 } };
    const newer: Version = { ...live, eventTsMs: 1001, hlc: { wallMs: 2, counter: 0 } };
    assert.ok(compareVersions(backfill, live) > 0);
    assert.ok(compareVersions(newer, backfill) > 0);
  });

  for (const [what, bad] of [
    [
      "a negative event time",
      { eventTsMs: -1, epoch: 0, hlc: { wallMs: 0, counter: 0 }, originRegion: "r" },
    ],
    [
      "a fractional epoch",
      { eventTsMs: 1, epoch: 0.5, hlc: { wallMs: 0, counter: 0 }, originRegion: "r" },
    ],
    [
      "a counter past 16 bits",
      { eventTsMs: 1, epoch: 0, hlc: { wallMs: 0, counter: 70_000 }, originRegion: "r" },
    ],
    [
      "an upper-case region",
      { eventTsMs: 1, epoch: 0, hlc: { wallMs: 0, counter: 0 }, originRegion: "US" },
    ],
    ["a missing hlc", { eventTsMs: 1, epoch: 0, originRegion: "r" }],
    ["a string", "1-0-0-r"],
  ] as const) {
    it(`reject ${what} with STRATA_E_BAD_WRITE_VERSION`, () => {
      assert.throws(
        () => validateVersion(bad),
        (e: unknown) => isStrataError(e, "STRATA_E_BAD_WRITE_VERSION"),
      );
    });
  }
});

describe("hybrid logical clock", () => {
  it("never goes backwards, whatever the physical clock does", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 300 }),
        (physical) => {
          let i = 0;
          const clock = new HybridLogicalClock({
            now: () => physical[Math.min(i++, physical.length - 1)]!,
          });
          let last = clock.now();
          for (let n = 1; n < physical.length; n++) {
            const next = clock.now();
            assert.ok(compareHlc(next, last) > 0);
            last = next;
          }
        },
      ),
    );
  });

  it("orders a local event after every remote timestamp it observed", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        hlc.filter((h) => h.wallMs < 2 ** 40),
        (physical, remote) => {
          const clock = new HybridLogicalClock({ now: () => physical, maxDriftMs: 2 ** 47 });
          clock.observe(remote);
          assert.ok(compareHlc(clock.now(), remote) > 0);
        },
      ),
    );
  });

  it("ignores a remote timestamp too far in the future", () => {
    const clock = new HybridLogicalClock({ now: () => 1_000, maxDriftMs: 100 });
    assert.equal(clock.observe({ wallMs: 5_000, counter: 0 }), false);
    assert.equal(clock.now().wallMs, 1_000);
  });

  it("borrows the next millisecond when the counter is exhausted", () => {
    const clock = new HybridLogicalClock({ now: () => 7 });
    clock.observe({ wallMs: 7, counter: 0xffff });
    assert.deepEqual(clock.now(), { wallMs: 8, counter: 1 });
  });
});

describe("clock vectors", () => {
  it("round-trip through their encoding", () => {
    fc.assert(
      fc.property(clockVector, (c) => assert.deepEqual(decodeClockVector(encodeClockVector(c)), c)),
    );
  });

  it("relate consistently in both directions", () => {
    const inverse = {
      equal: "equal",
      before: "after",
      after: "before",
      concurrent: "concurrent",
    } as const;
    fc.assert(
      fc.property(clockVector, clockVector, (a, b) =>
        assert.equal(relateClocks(b, a), inverse[relateClocks(a, b)]),
      ),
    );
  });

  it("merge to a vector that is after-or-equal both inputs", () => {
    fc.assert(
      fc.property(clockVector, clockVector, (a, b) => {
        const merged = mergeClocks(a, b);
        assert.ok(["after", "equal"].includes(relateClocks(merged, a)));
        assert.ok(["after", "equal"].includes(relateClocks(merged, b)));
      }),
    );
  });

  it("call writes from two regions that never saw each other concurrent", () => {
    const fromUs = { "us-east-1": { wallMs: 10, counter: 0 } };
    const fromEu = { "eu-west-1": { wallMs: 11, counter: 0 } };
    assert.equal(relateClocks(fromEu, fromUs), "concurrent");
    assert.equal(
      relateClocks({ ...fromUs, "eu-west-1": { wallMs: 11, counter: 0 } }, fromUs),
      "after",
    );
  });
});

describe("concurrency: neither write knew of the other", () => {
  const write = fc.record(
    { originRegion: fc.constantFrom("a", "b", "c", "eu-1"), hlc, clock: clockVector },
    plain,
  );

  it("is symmetric, and never holds within one region or for a write that knew of the other", () => {
    fc.assert(
      fc.property(write, write, (x, y) => {
        assert.equal(areConcurrent(x, y), areConcurrent(y, x));
        if (x.originRegion === y.originRegion) assert.equal(areConcurrent(x, y), false);
        if (knewOf(x.clock, y) || knewOf(y.clock, x)) assert.equal(areConcurrent(x, y), false);
      }),
    );
  });

  it("holds for writes of a sequential chain through three regions, and for two that missed each other", () => {
    const eu = {
      originRegion: "eu",
      hlc: { wallMs: 10, counter: 0 },
      clock: { eu: { wallMs: 10, counter: 0 } },
    };
    const us = {
      originRegion: "us",
      hlc: { wallMs: 20, counter: 0 },
      clock: { eu: eu.hlc, us: { wallMs: 20, counter: 0 } },
    };
    // ap saw us's write only (what its region had applied): it knew of the winner, us.
    const ap = {
      originRegion: "ap",
      hlc: { wallMs: 30, counter: 0 },
      clock: { us: us.hlc, ap: { wallMs: 30, counter: 0 } },
    };
    assert.equal(areConcurrent(us, eu), false);
    assert.equal(areConcurrent(ap, us), false);
    const euAgain = {
      originRegion: "eu",
      hlc: { wallMs: 31, counter: 0 },
      clock: { eu: { wallMs: 31, counter: 0 } },
    };
    assert.equal(areConcurrent(euAgain, ap), true);
  });

  it("encodes a seen clock with a write's own entry as encodeClockVector does", () => {
    fc.assert(
      fc.property(
        clockVector,
        fc.constantFrom("a", "b", "c", "d", "eu-1"),
        hlc,
        hlc,
        (seen, origin, first, second) => {
          const vector = new SeenVector(seen);
          for (const own of [first, second]) {
            assert.equal(
              vector.encodeWith(origin, own),
              encodeClockVector({ ...seen, [origin]: own }),
            );
          }
        },
      ),
    );
  });
});

describe("48-bit hex", () => {
  it("writes what toString(16) padded to 12 digits writes, for every integer below 2^48", () => {
    const edges = [0, 1, 2 ** 24 - 1, 2 ** 24, 2 ** 31, 2 ** 32, 2 ** 48 - 1];
    for (const n of edges) assert.equal(hex48(n), n.toString(16).padStart(12, "0"), String(n));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (n) => {
        assert.equal(hex48(n), n.toString(16).padStart(12, "0"));
      }),
    );
  });
});

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  driftScores,
  jsDistance,
  klDivergence,
  proportions,
  psi,
  smooth,
} from "../../../shared/drift/statistics.js";

interface FixtureCase {
  name: string;
  expected: number[];
  observed: number[];
  epsilon: number;
  psi: number;
  kl: number;
  js: number;
}

// Computed once with SciPy by fixtures/generate.py (scipy.stats.entropy, jensenshannon base 2).
const fixtures = JSON.parse(
  readFileSync(new URL("./fixtures/scores.json", import.meta.url), "utf8"),
) as { cases: FixtureCase[] };

// JS is a square root: a divergence of 1e-16 (the rounding of proportions that should be equal)
// is a distance of 1e-8, so near zero JS is compared in absolute terms.
function close(actual: number, expected: number, what: string, absolute = 0): void {
  const tolerance = 1e-9 * Math.max(1, Math.abs(expected)) + absolute;
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} differs from SciPy's ${expected}`,
  );
}

describe("drift statistics against SciPy", () => {
  assert.ok(fixtures.cases.length >= 12);
  for (const c of fixtures.cases) {
    it(c.name, () => {
      const scores = driftScores(c.expected, c.observed, c.epsilon);
      assert.ok(scores);
      close(scores.psi, c.psi, "psi");
      close(scores.kl, c.kl, "kl");
      close(scores.js, c.js, "js", 1e-7);
    });
  }
});

describe("drift statistics edge cases", () => {
  it("an empty window gives no scores", () => {
    assert.equal(driftScores([0.5, 0.5], [0, 0]), undefined);
  });

  it("a single bucket scores zero", () => {
    assert.deepEqual(driftScores([1], [9]), { psi: 0, kl: 0, js: 0 });
  });

  it("disjoint distributions are at JS distance 1", () => {
    assert.equal(jsDistance([1, 0], [0, 1]), 1);
  });

  it("smoothing keeps a distribution summing to 1 with no zero", () => {
    const s = smooth([0, 0.5, 0.5, 0], 1e-3);
    close(
      s.reduce((a, b) => a + b, 0),
      1,
      "sum",
    );
    assert.ok(s.every((p) => p > 0));
  });

  it("rejects mismatched bucket counts and negative counts", () => {
    assert.throws(() => driftScores([0.5, 0.5], [1, 2, 3]), RangeError);
    assert.throws(() => proportions([1, -1]), RangeError);
    assert.throws(() => smooth([1], 0), RangeError);
  });
});

// Two distributions over the same 1-30 buckets, given as counts (zeros included).
const pairOfCounts = fc
  .integer({ min: 1, max: 30 })
  .chain((k) =>
    fc.tuple(
      fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: k, maxLength: k }),
      fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: k, maxLength: k }),
    ),
  );
const nonEmpty = pairOfCounts.filter(([a, b]) => a.some((x) => x > 0) && b.some((x) => x > 0));

describe("drift statistics properties", () => {
  it("every score is non-negative and finite", () => {
    fc.assert(
      fc.property(nonEmpty, ([e, o]) => {
        const s = driftScores(e, o)!;
        for (const v of [s.psi, s.kl, s.js]) assert.ok(v >= 0 && Number.isFinite(v), `${v}`);
      }),
    );
  });

  it("identical distributions score zero, at any scale", () => {
    fc.assert(
      fc.property(nonEmpty, fc.integer({ min: 1, max: 50 }), ([e], scale) => {
        const s = driftScores(
          e,
          e.map((x) => x * scale),
        )!;
        assert.ok(s.psi < 1e-12 && s.kl < 1e-12 && s.js < 1e-6, JSON.stringify(s));
      }),
    );
  });

  it("JS distance is symmetric and at most 1 (base 2); PSI is symmetric", () => {
    fc.assert(
      fc.property(nonEmpty, ([a, b]) => {
        const p = proportions(a)!;
        const q = proportions(b)!;
        assert.equal(jsDistance(p, q), jsDistance(q, p));
        assert.ok(jsDistance(p, q) <= 1);
        const ps = smooth(p);
        const qs = smooth(q);
        assert.equal(psi(ps, qs), psi(qs, ps));
      }),
    );
  });

  it("PSI is the sum of the two KL directions", () => {
    fc.assert(
      fc.property(nonEmpty, ([a, b]) => {
        const p = smooth(proportions(a)!);
        const q = smooth(proportions(b)!);
        const sum = klDivergence(p, q) + klDivergence(q, p);
        assert.ok(Math.abs(psi(p, q) - sum) <= 1e-9 * Math.max(1, sum));
      }),
    );
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  buildBaseline,
  quantileEdges,
  topCategories,
} from "../../../shared/drift/baseline-build.js";
import {
  bucketCount,
  bucketDescription,
  bucketIndex,
  parseBaseline,
  type NumericBaselineFeature,
} from "../../../shared/drift/baseline.js";
import { evaluateModel, windowCounts } from "../../../shared/drift/evaluate.js";
import { isStrataError } from "../../../shared/errors.js";

const numeric: NumericBaselineFeature = {
  name: "v@1:x",
  kind: "numeric",
  edges: [1, 2, 3],
  expected: [0.25, 0.25, 0.25, 0.25, 0],
};

describe("baseline buckets", () => {
  it("numeric buckets are upper-inclusive like Prometheus' le; null, NaN and non-numbers go last", () => {
    assert.deepEqual(
      [-Infinity, 0, 1, 1.5, 2, 3, 3.0001, Infinity, 2n].map((v) => bucketIndex(numeric, v)),
      [0, 0, 0, 1, 1, 2, 3, 3, 1],
    );
    for (const v of [null, undefined, NaN, "1", [1]]) assert.equal(bucketIndex(numeric, v), 4);
    assert.equal(bucketDescription(numeric, 0), "(-inf, 1]");
    assert.equal(bucketDescription(numeric, 3), "(3, +inf]");
    assert.equal(bucketDescription(numeric, 4), "null");
  });

  it("categorical: listed categories, then other, then null; booleans as text", () => {
    const c = {
      name: "v@1:c",
      kind: "categorical" as const,
      categories: ["red", "true"],
      expected: [0.5, 0.5, 0, 0],
    };
    assert.deepEqual(
      ["red", true, "blue", 7, null].map((v) => bucketIndex(c, v)),
      [0, 1, 2, 2, 3],
    );
  });

  it("every value of any kind lands in a bucket that exists", () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        const b = bucketIndex(numeric, v);
        assert.ok(Number.isInteger(b) && b >= 0 && b < bucketCount(numeric));
      }),
    );
  });
});

describe("baseline building", () => {
  it("edges are NumPy's linear quantiles; ties merge buckets", () => {
    assert.deepEqual(quantileEdges([1, 2, 3, 4, 5], 4), [2, 3, 4]);
    assert.deepEqual(quantileEdges([0, 0, 0, 0, 0, 0, 1, 2, 3, 4], 4), [0, 1.75]);
    assert.deepEqual(quantileEdges([null, NaN, "x"], 10), []);
  });

  it("top-K by count, ties by value", () => {
    assert.deepEqual(topCategories(["b", "a", "b", "c", "a", null, true], 2), ["a", "b"]);
  });

  it("expected proportions sum to 1, include nulls, and the version is a content hash", () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? null : i));
    const input = {
      project: "p",
      model: "m",
      modelVersion: "3",
      featureService: "fs",
      source: "train.parquet",
      columns: [
        { name: "v@1:x", kind: "numeric" as const, values },
        {
          name: "v@1:c",
          kind: "categorical" as const,
          values: values.map((v) => (v === null ? null : String(v % 3))),
        },
      ],
    };
    const a = buildBaseline({ ...input, createdAt: "2026-01-01T00:00:00Z" });
    const b = buildBaseline({ ...input, createdAt: "2026-02-01T00:00:00Z" });
    assert.equal(a.baselineVersion, b.baselineVersion);
    assert.notEqual(a.baselineVersion, buildBaseline({ ...input, buckets: 5 }).baselineVersion);
    const x = a.features[0]!;
    assert.equal(x.expected.length, 10 + 1);
    assert.ok(Math.abs(x.expected.reduce((s, p) => s + p, 0) - 1) < 1e-12);
    assert.equal(x.expected.at(-1), 0.1);
    assert.deepEqual(parseBaseline(JSON.parse(JSON.stringify(a))), a);
  });
});

describe("baseline parsing", () => {
  const good = {
    format: 1,
    project: "p",
    model: "m",
    modelVersion: "1",
    featureService: "fs",
    baselineVersion: "abc",
    createdAt: "2026-01-01T00:00:00Z",
    source: "s",
    rows: 4,
    features: [numeric],
  };
  const bad = (patch: Record<string, unknown>) => () => parseBaseline({ ...good, ...patch });
  it("accepts a valid baseline and refuses malformed ones with STRATA_E_BAD_BASELINE", () => {
    assert.equal(parseBaseline(good).features.length, 1);
    for (const f of [
      bad({ format: 2 }),
      bad({ features: [] }),
      bad({ features: [{ ...numeric, edges: [2, 1, 3] }] }),
      bad({ features: [{ ...numeric, expected: [1] }] }),
      bad({ features: [{ ...numeric, expected: [0.5, 0.5, 0.5, 0, 0] }] }),
      bad({ features: [numeric, numeric] }),
      bad({ features: [{ ...numeric, thresholds: { psiAlert: -1 } }] }),
      bad({ baselineVersion: "a b" }),
    ]) {
      assert.throws(f, (e) => isStrataError(e, "STRATA_E_BAD_BASELINE"));
    }
  });
});

describe("evaluation", () => {
  const baseline = parseBaseline({
    format: 1,
    project: "p",
    model: "m",
    modelVersion: "1",
    featureService: "fs",
    baselineVersion: "abc",
    createdAt: "2026-01-01T00:00:00Z",
    source: "s",
    rows: 4,
    features: [numeric, { ...numeric, name: "v@1:y", thresholds: { psiAlert: 5, jsAlert: 0.9 } }],
  });
  const samples = (region: string, feature: string, counts: number[]) =>
    counts.map((count, b) => ({ region, feature, bucket: String(b), count }));

  it("matching: ok; shifted in one region: alert naming the feature; overrides respected", () => {
    const ok = windowCounts(baseline, [
      ...samples("a", "v@1:x", [100, 100, 100, 100, 0]),
      ...samples("a", "v@1:y", [100, 100, 100, 100, 0]),
    ]);
    assert.equal(evaluateModel(baseline, ok.counts).status, "ok");
    const shifted = windowCounts(baseline, [
      ...samples("a", "v@1:x", [100, 100, 100, 100, 0]),
      ...samples("b", "v@1:x", [10, 10, 100, 280, 0]),
      ...samples("b", "v@1:y", [10, 10, 100, 280, 0]),
      { region: "a", feature: "v@1:zzz", bucket: "0", count: 7 },
    ]);
    assert.equal(shifted.unmatched, 7);
    const result = evaluateModel(baseline, shifted.counts);
    assert.equal(result.status, "alert");
    assert.deepEqual(result.drifted, ["v@1:x"]); // y's thresholds are raised
    const x = result.features[0]!;
    assert.equal(x.regions.b!.level, "alert");
    assert.equal(x.regions.a!.level, "ok");
  });

  it("an empty window decides nothing and says so", () => {
    const result = evaluateModel(baseline, windowCounts(baseline, []).counts);
    assert.equal(result.status, "empty");
    assert.match(result.reason, /no values observed/);
    const few = evaluateModel(
      baseline,
      windowCounts(baseline, samples("a", "v@1:x", [1, 1, 1, 1, 0])).counts,
    );
    assert.equal(few.status, "empty");
    assert.match(few.reason, /too few values/);
  });
});

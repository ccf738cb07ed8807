// Which bucket a served value falls in: the compiled bucket functions of the serving path,
// against the baseline's own definition (bucketIndex) and against hand-worked cases.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  bucketIndex,
  type CategoricalBaselineFeature,
  type NumericBaselineFeature,
} from "../../../shared/drift/baseline.js";
import { compileBucketFunction } from "../../../shared/drift/bucket-function.js";

function numeric(edges: number[]): NumericBaselineFeature {
  return { name: "v@1:x", kind: "numeric", edges, expected: [] };
}

function categorical(categories: string[]): CategoricalBaselineFeature {
  return { name: "v@1:c", kind: "categorical", categories, expected: [] };
}

describe("numeric buckets", () => {
  const bucket = compileBucketFunction(numeric([1, 2, 3]));

  it("closes each bucket at its upper edge: a value equal to an edge is in the bucket below it", () => {
    assert.deepEqual([0.5, 1, 1.0000001, 2, 2.5, 3, 3.0000001].map(bucket), [0, 0, 1, 1, 2, 2, 3]);
  });

  it("puts -Infinity in the first bucket and +Infinity in the last value bucket", () => {
    assert.equal(bucket(-Infinity), 0);
    assert.equal(bucket(Infinity), 3);
    assert.equal(bucket(-0), 0);
  });

  it("puts null, undefined and NaN in the null bucket (the last)", () => {
    assert.deepEqual([null, undefined, NaN].map(bucket), [4, 4, 4]);
  });

  it("compares an int64 beyond 2^53 (a bigint) as its nearest double", () => {
    const big = compileBucketFunction(numeric([2 ** 53, 2 ** 63]));
    assert.equal(big(2n ** 53n), 0);
    assert.equal(big(2n ** 53n + 1n), 0, "2^53 + 1 rounds to 2^53, on the edge");
    assert.equal(big(2n ** 53n + 2n), 1);
    assert.equal(big(2n ** 63n - 1n), 1, "int64's maximum rounds to 2^63, on the edge");
    assert.equal(big(-(2n ** 63n)), 0);
  });

  it("puts values of no numeric type (lists, bytes, text) in the null bucket", () => {
    assert.deepEqual([[1, 2], Buffer.from("1"), "2", true, {}].map(bucket), [4, 4, 4, 4, 4]);
  });

  it("finds buckets by binary search beyond 16 edges, with the same answers", () => {
    const edges = Array.from({ length: 40 }, (_, i) => i * 10);
    const many = compileBucketFunction(numeric(edges));
    assert.equal(many(-1), 0);
    assert.equal(many(0), 0);
    assert.equal(many(5), 1);
    assert.equal(many(390), 39);
    assert.equal(many(391), 40);
    assert.equal(many(NaN), 41);
  });

  it("with no edges has one value bucket and the null bucket", () => {
    const none = compileBucketFunction(numeric([]));
    assert.deepEqual([-5, 0, 5, null].map(none), [0, 0, 0, 1]);
  });
});

describe("categorical buckets", () => {
  const bucket = compileBucketFunction(categorical(["red", "blue", "true", "7"]));

  it("gives a listed category its index, anything else 'other', null and NaN the null bucket", () => {
    assert.deepEqual(
      ["red", "blue", "green", "", null, undefined, NaN].map(bucket),
      [0, 1, 4, 4, 5, 5, 5],
    );
  });

  it("matches booleans, numbers and bigints by their text", () => {
    assert.deepEqual([true, false, 7, 7n, 7.5].map(bucket), [2, 4, 3, 3, 4]);
  });

  it("puts lists and bytes in the null bucket", () => {
    assert.deepEqual([["red"], Buffer.from("red")].map(bucket), [5, 5]);
  });
});

describe("compiled buckets agree with the baseline's definition (bucketIndex)", () => {
  const value = fc.oneof(
    fc.double(),
    fc.constantFrom(NaN, Infinity, -Infinity, -0, 0),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.integer({ min: -20, max: 20 }),
    fc.string({ maxLength: 3 }),
    fc.boolean(),
    fc.constantFrom(null, undefined),
    fc.array(fc.integer(), { maxLength: 2 }),
  );

  it("for numeric features", () => {
    const edges = fc
      .uniqueArray(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 40 })
      .map((list) =>
        [...new Set(list.map((e) => (Object.is(e, -0) ? 0 : e)))].sort((a, b) => a - b),
      );
    // Values drawn from the edges themselves too: the boundary is where the two could differ.
    const edgesAndValues = edges.chain((list) =>
      fc.tuple(
        fc.constant(list),
        fc.array(list.length > 0 ? fc.oneof(value, fc.constantFrom(...list)) : value, {
          maxLength: 20,
        }),
      ),
    );
    fc.assert(
      fc.property(edgesAndValues, ([edgeList, values]) => {
        const feature = numeric(edgeList);
        const bucket = compileBucketFunction(feature);
        for (const v of values) assert.equal(bucket(v), bucketIndex(feature, v), String(v));
      }),
      { numRuns: 500 },
    );
  });

  it("for categorical features", () => {
    const categories = fc.uniqueArray(
      fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom("true", "false", "1", "-3")),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(categories, fc.array(value, { maxLength: 20 }), (list, values) => {
        const feature = categorical(list);
        const bucket = compileBucketFunction(feature);
        for (const v of values) assert.equal(bucket(v), bucketIndex(feature, v), String(v));
      }),
      { numRuns: 500 },
    );
  });
});

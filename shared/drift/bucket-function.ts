import type { BaselineFeature } from "./baseline.js";

/** A served value's bucket index under one feature's baseline (see baseline.ts for the order). */
export type BucketFunction = (value: unknown) => number;

/**
 * The bucket function of one baseline feature, compiled once so that the serving path does
 * no per-value lookups beyond the bucket search itself: the same answers as `bucketIndex`
 * (baseline.ts), which a property test holds it to.
 *
 * - numeric: upper edge inclusive (`edges[i-1] < v <= edges[i]` is bucket i), so a value equal
 *   to an edge falls in the bucket that edge closes; -Infinity is bucket 0, +Infinity the last
 *   value bucket; an int64 beyond 2^53 (a bigint) is compared as its nearest double.
 * - categorical: the category's index when the value's text (booleans `"true"`/`"false"`,
 *   numbers and bigints as decimal text) is a listed category, else "other".
 * - null, undefined, NaN, and values of no type a feature has (a list, bytes) fall in the null
 *   bucket: a recorder never throws on a value.
 */
export function compileBucketFunction(feature: BaselineFeature): BucketFunction {
  if (feature.kind === "numeric") return numericBuckets(feature.edges);
  return categoricalBuckets(feature.categories);
}

function numericBuckets(edgeList: readonly number[]): BucketFunction {
  const edges = Float64Array.from(edgeList);
  const count = edges.length;
  const nullIndex = count + 1;
  const search = (n: number): number => {
    // First edge >= n: a plain scan for the usual ten edges, a binary search above that.
    if (count <= 16) {
      let i = 0;
      while (i < count && edges[i]! < n) i++;
      return i;
    }
    let low = 0;
    let high = count;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (edges[mid]! < n) low = mid + 1;
      else high = mid;
    }
    return low;
  };
  return (value) => {
    if (typeof value === "number") return value === value ? search(value) : nullIndex;
    if (typeof value === "bigint") return search(Number(value));
    return nullIndex;
  };
}

function categoricalBuckets(categories: readonly string[]): BucketFunction {
  const index = new Map(categories.map((category, i) => [category, i]));
  const other = categories.length;
  const nullIndex = other + 1;
  const of = (text: string) => index.get(text) ?? other;
  const ifTrue = of("true");
  const ifFalse = of("false");
  return (value) => {
    switch (typeof value) {
      case "string":
        return of(value);
      case "boolean":
        return value ? ifTrue : ifFalse;
      case "number":
        return value === value ? of(String(value)) : nullIndex;
      case "bigint":
        return of(String(value));
      default:
        return nullIndex;
    }
  };
}

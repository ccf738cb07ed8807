/** Percentiles of timing samples (exact: the samples are sorted, not bucketed). */
export function percentiles(samples: Float64Array | number[], ps: number[]): number[] {
  const sorted = Float64Array.from(samples).sort();
  return ps.map((p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
}

/** Nanoseconds since an arbitrary origin, as a double (hrtime's bigint, without allocating per sample more than needed). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

export const round = (n: number, digits = 2) => Number(n.toFixed(digits));

export { seededRandom } from "../test/support/seeded-random.js";

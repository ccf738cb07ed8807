/** Percentiles of timing samples (exact: the samples are sorted, not bucketed). */
export function percentiles(samples: Float64Array | readonly number[], ps: number[]): number[] {
  const sorted = Float64Array.from(samples).sort();
  return ps.map((p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
}

/** The median of figures over rounds (the upper middle one for an even count). */
export function median(values: readonly number[]): number {
  return percentiles(values, [0.5])[0]!;
}

/** Nanoseconds since an arbitrary origin, as a double (hrtime's bigint, without allocating per sample more than needed). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

export const round = (n: number, digits = 2) => Number(n.toFixed(digits));

export { seededRandom } from "../test/support/seeded-random.js";

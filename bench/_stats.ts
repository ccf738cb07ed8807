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

/** mulberry32: a seeded PRNG, so runs draw the same workload. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

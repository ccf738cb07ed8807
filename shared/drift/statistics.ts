/**
 * Distances between a baseline's expected bucket proportions and the observed counts of a
 * window. Logarithms are natural (nats) for PSI and KL; the Jensen–Shannon distance is in
 * base 2, so it lies in [0, 1] (1: the two distributions share no bucket).
 *
 * Empty buckets: PSI and KL divide by each proportion, so a bucket that is empty on either side
 * would make them infinite. Before PSI and KL, each distribution's zero proportions are raised
 * to `epsilon` and the distribution is renormalised to sum to 1 ({@link smooth}). JS needs no
 * smoothing (its mixture is never zero where either side is not) and is computed unsmoothed.
 */

/** The default smoothing of empty buckets: a proportion of 1e-4, one value in ten thousand. */
export const DEFAULT_EPSILON = 1e-4;

export interface DriftScores {
  /** Population stability index: sum of (o - e) * ln(o / e) over smoothed proportions. */
  psi: number;
  /** Kullback–Leibler divergence KL(observed ‖ expected) in nats, over smoothed proportions. */
  kl: number;
  /** Jensen–Shannon distance (square root of the divergence), base 2, unsmoothed. */
  js: number;
}

/**
 * Proportions of counts (or of unnormalised weights). Throws on negative or non-finite entries;
 * returns undefined when the total is zero (nothing observed: no distribution to compare).
 */
export function proportions(counts: readonly number[]): number[] | undefined {
  let total = 0;
  for (const c of counts) {
    if (!Number.isFinite(c) || c < 0) throw new RangeError(`count ${c} is not a finite count >= 0`);
    total += c;
  }
  if (total === 0) return undefined;
  return counts.map((c) => c / total);
}

/** Raises zero proportions to epsilon and renormalises to sum 1 (see the module comment). */
export function smooth(distribution: readonly number[], epsilon = DEFAULT_EPSILON): number[] {
  if (!(epsilon > 0 && epsilon < 1)) throw new RangeError(`epsilon ${epsilon} is not in (0, 1)`);
  const raised = distribution.map((p) => (p === 0 ? epsilon : p));
  const total = raised.reduce((a, b) => a + b, 0);
  return raised.map((p) => p / total);
}

/** PSI of two distributions of the same buckets, each already smoothed (no zero entries). */
export function psi(expected: readonly number[], observed: readonly number[]): number {
  sameLength(expected, observed);
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const o = observed[i]!;
    // Differences of logs, not the log of a ratio: swapping the sides then negates both
    // factors exactly, so PSI is symmetric to the last bit.
    sum += (o - e) * (Math.log(o) - Math.log(e));
  }
  return sum;
}

/** KL(p ‖ q) in nats; q must be non-zero wherever p is (smooth it first). */
export function klDivergence(p: readonly number[], q: readonly number[]): number {
  sameLength(p, q);
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    if (pi > 0) sum += pi * Math.log(pi / q[i]!);
  }
  // Rounding can leave -1e-17 for identical inputs; a divergence is never negative.
  return Math.max(0, sum);
}

/** Jensen–Shannon distance in base 2: sqrt of the JS divergence, in [0, 1]. */
export function jsDistance(p: readonly number[], q: readonly number[]): number {
  sameLength(p, q);
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]!;
    const qi = q[i]!;
    const m = (pi + qi) / 2;
    // One addition per bucket (commutative in floating point): JS(p, q) === JS(q, p) exactly.
    sum += (pi > 0 ? pi * Math.log(pi / m) : 0) + (qi > 0 ? qi * Math.log(qi / m) : 0);
  }
  const divergence = sum / 2 / Math.LN2;
  return Math.sqrt(Math.min(1, Math.max(0, divergence)));
}

/**
 * All three scores of observed counts against a baseline's expected proportions, or undefined
 * when nothing was observed (an empty window decides nothing).
 */
export function driftScores(
  expected: readonly number[],
  observedCounts: readonly number[],
  epsilon = DEFAULT_EPSILON,
): DriftScores | undefined {
  sameLength(expected, observedCounts);
  const observed = proportions(observedCounts);
  const baseline = proportions(expected);
  if (!observed || !baseline) return undefined;
  const e = smooth(baseline, epsilon);
  const o = smooth(observed, epsilon);
  return { psi: psi(e, o), kl: klDivergence(o, e), js: jsDistance(baseline, observed) };
}

function sameLength(a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length || a.length === 0) {
    throw new RangeError(`distributions have ${a.length} and ${b.length} buckets`);
  }
}

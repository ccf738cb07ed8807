const TWO_24 = 2 ** 24;

/**
 * An integer in [0, 2^48) as 12 hex digits, as `n.toString(16).padStart(12, "0")` writes it,
 * but faster: numbers past 2^31 are not small integers to V8, and turning one into
 * hex takes its slow path for doubles, while two 24-bit halves take the fast path for
 * integers. Every version the writer and the consumer encode has two such numbers (event
 * time and HLC milliseconds), and the clock vector a third.
 */
export function hex48(n: number): string {
  const high = Math.floor(n / TWO_24);
  const low = n - high * TWO_24;
  return high.toString(16).padStart(6, "0") + low.toString(16).padStart(6, "0");
}

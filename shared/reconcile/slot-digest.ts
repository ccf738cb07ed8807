/** Redis Cluster's hash slots: every key of the store belongs to one, computed from its hash tag. */
export const SLOT_COUNT = 16_384;

/**
 * An order-independent digest of the (entity key, stored version) pairs of one view major, per
 * hash slot: a count and two 32-bit sums of a hash of each pair. Sums do not depend on the
 * order keys are scanned in, and the digest of any range of slots is the sum of its slots',
 * so a region computes its table in one pass and answers for any range without a second one.
 */
export class SlotDigests {
  readonly counts = new Uint32Array(SLOT_COUNT);
  readonly sumsA = new Uint32Array(SLOT_COUNT);
  readonly sumsB = new Uint32Array(SLOT_COUNT);

  /** Adds one (key, version) pair in `slot`; the caller adds each key once. */
  add(slot: number, key: string, version: string): void {
    hashPair(key, version);
    this.counts[slot]! += 1;
    // Uint32Array stores wrap modulo 2^32: sums are exact in that group, whatever the order.
    this.sumsA[slot]! += hashA;
    this.sumsB[slot]! += hashB;
  }

  /** The digest of slots [from, to). */
  range(from: number, to: number): RangeDigest {
    let count = 0;
    let a = 0;
    let b = 0;
    for (let slot = from; slot < to; slot++) {
      count += this.counts[slot]!;
      a = (a + this.sumsA[slot]!) >>> 0;
      b = (b + this.sumsB[slot]!) >>> 0;
    }
    return { count, a, b };
  }

  /** Pairs held, over every slot. */
  total(): number {
    let count = 0;
    for (const n of this.counts) count += n;
    return count;
  }
}

export interface RangeDigest {
  count: number;
  a: number;
  b: number;
}

export function sameDigest(x: RangeDigest, y: RangeDigest): boolean {
  return x.count === y.count && x.a === y.a && x.b === y.b;
}

// The two hashes of the last pair: module state, so hashing a pair allocates nothing.
let hashA = 0;
let hashB = 0;

/**
 * Two independent 32-bit hashes of (key, version) in one pass over their characters: FNV-1a
 * and a multiply-xorshift, each finished with an avalanche so that sums of them spread over
 * all bits. The key's length is mixed in between, so no (key, version) split of the same
 * characters collides. Not cryptographic: regions are not adversaries of each other, and a
 * 64-bit sum plus a count makes an accidental match of two different slots vanishingly rare.
 */
function hashPair(key: string, version: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a = Math.imul(a ^ key.length, 0x01000193);
  b = Math.imul(b ^ key.length, 0x5bd1e995);
  for (let i = 0; i < version.length; i++) {
    const c = version.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  hashA = avalanche(a);
  hashB = avalanche(b ^ 0x27d4eb2f);
}

/** murmur3's fmix32. */
function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

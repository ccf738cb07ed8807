/**
 * A count-min sketch of recent access frequency, the admission filter of TinyLFU
 * (Einbinder, Friedman, Manes: "TinyLFU: A Highly Efficient Cache Admission Policy").
 * Four 4-bit-style counters per key (saturating at 15) in one byte array; every
 * `sampleSize` increments all counters are halved, so old popularity fades.
 */
export class FrequencySketch {
  private readonly table: Uint8Array;
  private readonly mask: number;
  private readonly sampleSize: number;
  private additions = 0;

  constructor(expectedEntries: number) {
    const width = nextPowerOfTwo(Math.max(64, expectedEntries * 4));
    this.table = new Uint8Array(width);
    this.mask = width - 1;
    this.sampleSize = Math.max(1_000, expectedEntries * 10);
  }

  increment(key: string): void {
    const h = hash(key);
    const h2 = mix(h);
    let added = false;
    for (let i = 0; i < 4; i++) {
      const slot = (h + i * h2) & this.mask;
      if (this.table[slot]! < 15) {
        this.table[slot]!++;
        added = true;
      }
    }
    if (added && ++this.additions >= this.sampleSize) this.age();
  }

  estimate(key: string): number {
    const h = hash(key);
    const h2 = mix(h);
    let min = 15;
    for (let i = 0; i < 4; i++) {
      const count = this.table[(h + i * h2) & this.mask]!;
      if (count < min) min = count;
    }
    return min;
  }

  private age(): void {
    for (let i = 0; i < this.table.length; i++) this.table[i] = this.table[i]! >>> 1;
    this.additions = Math.floor(this.additions / 2);
  }
}

/** FNV-1a over UTF-16 code units: fast, and good enough to spread keys over the table. */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A second, independent-enough hash for double hashing (odd, so it cycles the whole table). */
function mix(h: number): number {
  let x = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return ((x ^ (x >>> 16)) | 1) >>> 0;
}

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}

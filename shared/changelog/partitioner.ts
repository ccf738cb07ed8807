import { Partitioners, type ICustomPartitioner, type PartitionerArgs } from "kafkajs";

/**
 * Kafka's murmur2 of some bytes, as a signed 32-bit integer: the hash Java's default
 * partitioner (`Utils.murmur2`) and kafkajs' DefaultPartitioner compute for a record key.
 * kafkajs computes it with 64-bit Long objects, a few per 4 bytes of key, so every record
 * left garbage and cost the writer noticeable CPU; 32-bit multiplication (Math.imul) gives the
 * same bits without allocating.
 */
export function murmur2(bytes: Uint8Array, length = bytes.length): number {
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= bytes[whole + 2]! << 16;
    if (rest >= 2) h ^= bytes[whole + 1]! << 8;
    h ^= bytes[whole]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

// Keys are encoded here rather than into a new Buffer each: the writer hashes every record.
let scratch = Buffer.allocUnsafe(1_024);

/** The partition Java's and kafkajs' default partitioners give a keyed record. */
export function keyPartition(key: string | Uint8Array, partitions: number): number {
  let hash: number;
  if (typeof key === "string") {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (key.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(key.length * 3);
    hash = murmur2(scratch, scratch.write(key, 0, "utf8"));
  } else {
    hash = murmur2(key);
  }
  return (hash & 0x7fffffff) % partitions;
}

/**
 * The partitioner of Strata's producers: kafkajs' DefaultPartitioner, computed without its
 * Long arithmetic for keyed records. Every producer of a topic, in any language, must put a
 * key in the same partition: compaction and per-key order hold only within a partition. So
 * this gives exactly the default's partition (test/unit/changelog/partitioner.test.ts checks
 * it against kafkajs and against Kafka's own Java `Utils.murmur2`), and leaves records with an
 * explicit partition, and records without a key, to the default itself.
 */
export const createKeyPartitioner: ICustomPartitioner = () => {
  const fallback = Partitioners.DefaultPartitioner();
  return (args: PartitionerArgs) => {
    const { message } = args;
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key === null || message.key === undefined) return fallback(args);
    return keyPartition(message.key, args.partitionMetadata.length);
  };
};

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Partitioners, type PartitionerArgs } from "kafkajs";
import {
  createKeyPartitioner,
  keyPartition,
  murmur2,
} from "../../../shared/changelog/partitioner.js";

/**
 * Kafka's own hashes and partitions (of 3) for these keys, printed by
 * `org.apache.kafka.common.utils.Utils.murmur2` and `toPositive(...) % 3` of kafka-clients
 * 4.1.1, the jar the stack's pom resolves. The first six are keys other Kafka clients test
 * their murmur2 with; then a changelog key, a key with multi-byte UTF-8, and the empty key.
 */
const JAVA: [key: string, hash: number, partitionOf3: number][] = [
  ["21", -973932308, 0],
  ["foobar", -790332482, 0],
  ["a-little-bit-long-string", -985981536, 2],
  ["a-little-bit-longer-string", -1486304829, 2],
  ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971, 2],
  ["abc", 479470107, 0],
  ["bench_view@1/i12345", 1601513268, 0],
  ["driver_hourly_stats@2/déjà-vu\u2603", -2070540, 2],
  ["", 275646681, 0],
];

function metadata(partitions: number): PartitionerArgs["partitionMetadata"] {
  return Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
}

describe("murmur2 and keyPartition", () => {
  it("give Kafka's Java hash and partition for its own test keys", () => {
    for (const [key, hash, partition] of JAVA) {
      assert.equal(murmur2(Buffer.from(key, "utf8")), hash, key);
      assert.equal(keyPartition(key, 3), partition, key);
      assert.equal(keyPartition(Buffer.from(key, "utf8"), 3), partition, key);
    }
  });

  it("give kafkajs' DefaultPartitioner's partition for any key and partition count", () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(
        // Full Unicode, so keys take 1 to 4 UTF-8 bytes per character; the long ones take more
        // bytes than keyPartition's first scratch buffer holds.
        fc.oneof(
          fc.string({ unit: "grapheme", maxLength: 40 }),
          fc.string({ unit: "grapheme", minLength: 300, maxLength: 900 }),
        ),
        fc.integer({ min: 1, max: 64 }),
        (key, partitions) => {
          const expected = kafkajs({
            topic: "t",
            partitionMetadata: metadata(partitions),
            message: { key, value: null },
          });
          assert.equal(keyPartition(key, partitions), expected);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe("createKeyPartitioner", () => {
  const partitionMetadata = metadata(6);

  it("hashes keyed records", () => {
    const partitioner = createKeyPartitioner();
    for (const [key] of JAVA) {
      const message = { key, value: "v" };
      assert.equal(partitioner({ topic: "t", partitionMetadata, message }), keyPartition(key, 6));
    }
  });

  it("keeps an explicit partition, and spreads records without a key over the partitions", () => {
    const partitioner = createKeyPartitioner();
    assert.equal(
      partitioner({
        topic: "t",
        partitionMetadata,
        message: { key: "k", value: "v", partition: 4 },
      }),
      4,
    );
    const unkeyed = new Set(
      Array.from({ length: 12 }, () =>
        partitioner({ topic: "t", partitionMetadata, message: { key: null, value: "v" } }),
      ),
    );
    // kafkajs' round robin: twelve records land on all six partitions.
    assert.equal(unkeyed.size, 6);
  });
});

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import fc from "fast-check";
import { keyPartition } from "../../../shared/changelog/partitioner.js";

const require = createRequire(import.meta.url);

/** kafkajs' own grouping of a send's messages by partition, as installed (patches/). */
const modulePath = require.resolve("kafkajs/src/producer/groupMessagesPerPartition.js");
const groupMessagesPerPartition = require(modulePath) as (args: {
  topic: string;
  partitionMetadata: { partitionId: number }[];
  messages: { key: string }[];
  partitioner: (args: { message: { key: string } }) => number;
}) => Record<string, { key: string }[]>;

/** kafkajs' record batch encoder and decoder, and the consumer's Batch, as installed. */
const kafkajsModule = (name: string) => require(`kafkajs/src/${name}`) as unknown;
const { RecordBatch } = kafkajsModule("protocol/recordBatch/v0/index.js") as {
  RecordBatch: (batch: object) => Promise<{ buffer: Buffer }>;
};
const encodeRecord = kafkajsModule("protocol/recordBatch/record/v0/index.js") as (record: {
  offsetDelta: number;
  timestampDelta: unknown;
  key: Buffer;
  value: Buffer;
  headers: Record<string, Buffer | Buffer[]>;
}) => unknown;
const decodeRecordBatch = kafkajsModule("protocol/recordBatch/v0/decoder.js") as (
  decoder: unknown,
) => Promise<{ records: DecodedRecord[] }>;
const Decoder = kafkajsModule("protocol/decoder.js") as new (buffer: Buffer) => unknown;
const Batch = kafkajsModule("consumer/batch.js") as new (
  topic: string,
  fetchedOffset: string,
  partitionData: object,
) => { messages: DecodedRecord[] };
const Long = kafkajsModule("utils/long.js") as { fromValue: (value: bigint | string) => unknown };

interface DecodedRecord {
  offset: string;
  timestamp: string;
  key: Buffer;
  value: Buffer;
  headers: Record<string, Buffer | Buffer[]>;
  isControlRecord: boolean;
}

/** Offsets and timestamps on both sides of the patch's 15-character fast path. */
const int64Around = (...edges: bigint[]) =>
  fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 62n }),
    fc.constantFrom(...edges).chain((edge) => fc.bigInt({ min: edge - 50n, max: edge + 50n })),
  );
const FIFTEEN_NINES = 999_999_999_999_999n;

const recordArb = fc.record({
  timestampDelta: fc.oneof(
    fc.bigInt({ min: -(2n ** 27n), max: 2n ** 27n }),
    fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }),
  ),
  key: fc.uint8Array({ maxLength: 40 }),
  value: fc.uint8Array({ maxLength: 400 }),
  // Prefixed: kafkajs folds headers into a plain object, so a header named like one of
  // Object.prototype's properties ("toString") decodes wrongly, patched or not.
  headers: fc.dictionary(
    fc.string({ minLength: 1, maxLength: 8 }).map((name) => `h-${name}`),
    fc.oneof(
      fc.uint8Array({ maxLength: 8 }),
      fc.array(fc.uint8Array({ maxLength: 8 }), { minLength: 2, maxLength: 3 }),
    ),
    { maxKeys: 3 },
  ),
});

describe("the kafkajs patch (patches/kafkajs+2.2.4.patch)", () => {
  it("is installed: npm's postinstall ran patch-package", () => {
    for (const name of [
      "producer/groupMessagesPerPartition.js",
      "protocol/recordBatch/v0/decoder.js",
      "protocol/recordBatch/record/v0/decoder.js",
      "consumer/batch.js",
    ]) {
      assert.match(
        readFileSync(require.resolve(`kafkajs/src/${name}`), "utf8"),
        /Patched by Strata/,
        name,
      );
    }
  });

  it("decodes each record's offset, timestamp, key, value and headers as 64-bit arithmetic gives them", async () => {
    await fc.assert(
      fc.asyncProperty(
        int64Around(FIFTEEN_NINES, 2n ** 53n),
        int64Around(FIFTEEN_NINES, 2n ** 53n, 1_764_201_600_000n),
        fc.array(recordArb, { minLength: 1, maxLength: 20 }),
        async (firstOffset, firstTimestamp, records) => {
          const { buffer } = await RecordBatch({
            firstOffset: Long.fromValue(firstOffset),
            firstTimestamp: firstTimestamp.toString(),
            maxTimestamp: firstTimestamp.toString(),
            lastOffsetDelta: records.length - 1,
            records: records.map((record, offsetDelta) =>
              encodeRecord({
                offsetDelta,
                timestampDelta: Long.fromValue(record.timestampDelta),
                key: Buffer.from(record.key),
                value: Buffer.from(record.value),
                headers: Object.fromEntries(
                  Object.entries(record.headers).map(([k, v]) => [
                    k,
                    v instanceof Uint8Array ? Buffer.from(v) : v.map((b) => Buffer.from(b)),
                  ]),
                ),
              }),
            ),
          });
          const decoded = (await decodeRecordBatch(new Decoder(buffer))).records;
          assert.equal(decoded.length, records.length);
          records.forEach((record, i) => {
            const got = decoded[i]!;
            assert.equal(got.offset, (firstOffset + BigInt(i)).toString());
            assert.equal(got.timestamp, (firstTimestamp + record.timestampDelta).toString());
            assert.deepEqual([...got.key], [...record.key]);
            assert.deepEqual([...got.value], [...record.value]);
            assert.deepEqual(
              Object.fromEntries(
                Object.entries(got.headers).map(([k, v]) => [
                  k,
                  Array.isArray(v) ? v.map((b) => [...b]) : [...v],
                ]),
              ),
              Object.fromEntries(
                Object.entries(record.headers).map(([k, v]) => [
                  k,
                  v instanceof Uint8Array ? [...v] : v.map((b) => [...b]),
                ]),
              ),
            );
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps the messages of a fetch from the fetched offset on, whatever their number of digits", () => {
    fc.assert(
      fc.property(
        int64Around(FIFTEEN_NINES, 2n ** 53n),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: -5, max: 35 }),
        (first, count, fetchedDelta) => {
          const messages = Array.from({ length: count }, (_, i) => ({
            offset: (first + BigInt(i)).toString(),
            isControlRecord: false,
          }));
          const fetched = first + BigInt(fetchedDelta);
          const batch = new Batch("t", fetched.toString(), {
            partition: 0,
            highWatermark: (first + BigInt(count)).toString(),
            messages,
            abortedTransactions: [],
          });
          assert.deepEqual(
            batch.messages.map((m) => m.offset),
            messages.filter((m) => BigInt(m.offset) >= fetched).map((m) => m.offset),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it("groups a send's messages by partition, each in send order", () => {
    const messages = Array.from({ length: 1_000 }, (_, i) => ({ key: `view@1/i${i}` }));
    const grouped = groupMessagesPerPartition({
      topic: "t",
      partitionMetadata: [0, 1, 2].map((partitionId) => ({ partitionId })),
      messages,
      partitioner: ({ message }) => keyPartition(message.key, 3),
    });
    const expected: Record<string, { key: string }[]> = {};
    for (const message of messages) (expected[keyPartition(message.key, 3)] ??= []).push(message);
    assert.deepEqual(grouped, expected);
    assert.deepEqual(Object.keys(grouped).sort(), ["0", "1", "2"]);
  });
});

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
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

describe("the kafkajs patch (patches/kafkajs+2.2.4.patch)", () => {
  it("is installed: npm's postinstall ran patch-package", () => {
    assert.match(readFileSync(modulePath, "utf8"), /Patched by Strata/);
  });

  it("leaves kafkajs' consumer as released (patches/README.md: only the producer is patched)", () => {
    for (const name of [
      "consumer/batch.js",
      "protocol/recordBatch/v0/decoder.js",
      "protocol/recordBatch/record/v0/decoder.js",
    ]) {
      assert.doesNotMatch(
        readFileSync(require.resolve(`kafkajs/src/${name}`), "utf8"),
        /Patched by Strata/,
        name,
      );
    }
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

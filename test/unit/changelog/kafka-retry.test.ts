import assert from "node:assert/strict";
import { test } from "node:test";
import { retryRetriable } from "../../../shared/changelog/kafka-errors.js";

const notLeader = () =>
  Object.assign(new Error("This server is not the leader for that topic-partition"), {
    retriable: true,
    type: "NOT_LEADER_FOR_PARTITION",
  });

test("an offset read is tried again while Kafka's error is retriable, then answers", async () => {
  let calls = 0;
  const offsets = await retryRetriable(() =>
    ++calls < 3
      ? Promise.reject(notLeader())
      : Promise.resolve([{ partition: 0, high: "7", low: "0" }]),
  );
  assert.equal(calls, 3);
  assert.deepEqual(offsets, [{ partition: 0, high: "7", low: "0" }]);
});

test("a non-retriable error is thrown at once, and a retriable one after the last attempt", async () => {
  let calls = 0;
  const refused = Object.assign(new Error("topic authorization failed"), { retriable: false });
  await assert.rejects(
    retryRetriable(() => {
      calls++;
      return Promise.reject(refused);
    }),
    refused,
  );
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(
    retryRetriable(() => {
      calls++;
      return Promise.reject(notLeader());
    }, 3),
    /not the leader/,
  );
  assert.equal(calls, 3);
});

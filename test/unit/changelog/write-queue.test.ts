import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EncodedRecord } from "../../../shared/changelog/record.js";
import { SendNotStarted, SerialSender } from "../../../shared/changelog/serial-sender.js";
import { WriteQueue } from "../../../shared/changelog/write-queue.js";
import { isStrataError } from "../../../shared/errors.js";

const records = (from: number, count: number): EncodedRecord[] =>
  Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: String(from + i) }));

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

/** A send whose completion the test controls. */
function controlledSend() {
  const sent: string[][] = [];
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const send = (batch: EncodedRecord[]) =>
    new Promise<void>((resolve, reject) => {
      sent.push(batch.map((r) => r.key));
      pending.push({ resolve, reject });
    });
  return { sent, pending, send };
}

describe("the write queue of standard writes", () => {
  it("sends a full batch at once and a partial one after the linger", async () => {
    const sends: string[][] = [];
    const queue = new WriteQueue({
      maxRecords: 100,
      batchSize: 3,
      lingerMs: 30,
      send: (batch) => {
        sends.push(batch.map((r) => r.key));
        return Promise.resolve();
      },
      onSendError: () => assert.fail("no send fails"),
    });
    await queue.enqueue(records(0, 4), false);
    await tick();
    assert.deepEqual(sends, [["k0", "k1", "k2"]]);
    await tick(60);
    assert.deepEqual(sends, [["k0", "k1", "k2"], ["k3"]]);
    assert.equal(queue.depth, 0);
  });

  it("refuses a batch that does not fit, whole, with STRATA_E_BACKPRESSURE, and takes writes again once drained", async () => {
    const { pending, send } = controlledSend();
    const queue = new WriteQueue({
      maxRecords: 5,
      batchSize: 2,
      lingerMs: 1,
      send,
      onSendError: () => undefined,
    });
    void queue.enqueue(records(0, 4), false);
    assert.throws(
      () => void queue.enqueue(records(4, 2), false),
      (e: unknown) => isStrataError(e, "STRATA_E_BACKPRESSURE") && e.status === 429,
    );
    assert.equal(queue.depth, 4, "nothing of the refused batch was queued");
    await tick();
    pending.shift()!.resolve();
    await tick();
    pending.shift()!.resolve();
    await tick();
    assert.equal(queue.depth, 0);
    assert.doesNotThrow(() => void queue.enqueue(records(4, 5), false));
  });

  it("retries a failed send until Kafka takes it, never dropping or reordering records", async () => {
    let failures = 2;
    const sends: string[][] = [];
    const errors: number[] = [];
    const queue = new WriteQueue({
      maxRecords: 100,
      batchSize: 2,
      lingerMs: 1,
      retryBackoffMs: { initial: 1, max: 2 },
      send: (batch) => {
        if (failures-- > 0) return Promise.reject(new Error("broker down"));
        sends.push(batch.map((r) => r.key));
        return Promise.resolve();
      },
      onSendError: (_e, attempt) => errors.push(attempt),
    });
    const acked = queue.enqueue(records(0, 5), true);
    await acked;
    assert.deepEqual(errors, [1, 2]);
    assert.deepEqual(sends.flat(), ["k0", "k1", "k2", "k3", "k4"]);
  });

  it("resolves a waiting write only once every one of its records is acknowledged", async () => {
    const { pending, send } = controlledSend();
    const queue = new WriteQueue({
      maxRecords: 100,
      batchSize: 2,
      lingerMs: 1,
      send,
      onSendError: () => undefined,
    });
    let done = false;
    void queue.enqueue(records(0, 3), true).then(() => (done = true));
    await tick(5);
    pending.shift()!.resolve();
    await tick(5);
    assert.equal(done, false, "one record is still unsent");
    pending.shift()!.resolve();
    await tick(5);
    assert.equal(done, true);
  });

  it("on close, sends what is queued; past the deadline, says how many records were not sent", async () => {
    const { pending, send } = controlledSend();
    const queue = new WriteQueue({
      maxRecords: 100,
      batchSize: 10,
      lingerMs: 1_000,
      send,
      onSendError: () => undefined,
    });
    const waiting = queue.enqueue(records(0, 3), true);
    const closing = queue.close(50);
    await assert.rejects(waiting, (e: unknown) =>
      isStrataError(e, "STRATA_E_CHANGELOG_UNAVAILABLE"),
    );
    assert.equal(await closing, 3);
    assert.equal(pending.length, 1, "the send was started");
    assert.throws(
      () => void queue.enqueue(records(3, 1), false),
      (e: unknown) => isStrataError(e, "STRATA_E_SHUTTING_DOWN"),
    );
  });
});

describe("the write queue when Kafka refuses records for good", () => {
  const tooLarge = new Error("MESSAGE_TOO_LARGE");
  const refusedError = new Error("refused: too large");

  it("fails only the refused record, at once, and sends the others in order without stalling", async () => {
    const sends: string[][] = [];
    const refusedCounts: number[] = [];
    let retried = 0;
    const queue = new WriteQueue({
      maxRecords: 100,
      batchSize: 10,
      lingerMs: 1,
      retryBackoffMs: { initial: 1, max: 2 },
      send: (batch) => {
        if (batch.some((r) => r.key === "k2")) return Promise.reject(tooLarge);
        sends.push(batch.map((r) => r.key));
        return Promise.resolve();
      },
      onSendError: () => retried++,
      permanentError: (error) => (error === tooLarge ? refusedError : undefined),
      onRefused: (_error, records) => refusedCounts.push(records),
    });
    const good = queue.enqueue(records(0, 2), true);
    const bad = queue.enqueue(records(2, 1), true);
    const after = queue.enqueue(records(3, 2), true);
    await good;
    await assert.rejects(bad, (e: unknown) => e === refusedError);
    await after;
    assert.equal(retried, 0, "a permanent refusal is not retried");
    assert.deepEqual(refusedCounts, [1]);
    assert.deepEqual(sends.flat(), ["k0", "k1", "k3", "k4"]);
    await tick();
    assert.equal(queue.depth, 0);
    await queue.enqueue(records(5, 1), true);
    assert.deepEqual(sends.flat(), ["k0", "k1", "k3", "k4", "k5"]);
  });

  it("keeps retrying errors that are not permanent", async () => {
    let failures = 3;
    const queue = new WriteQueue({
      maxRecords: 100,
      batchSize: 10,
      lingerMs: 1,
      retryBackoffMs: { initial: 1, max: 2 },
      send: () => (failures-- > 0 ? Promise.reject(new Error("broker down")) : Promise.resolve()),
      onSendError: () => undefined,
      permanentError: () => undefined,
    });
    await queue.enqueue(records(0, 3), true);
    assert.equal(failures, -1);
  });
});

describe("the serial sender", () => {
  it("drops a send whose caller gave up before it started, and keeps one already in flight", async () => {
    const { sent, pending, send } = controlledSend();
    const sender = new SerialSender<EncodedRecord>(send, 100);
    const first = new AbortController();
    const second = new AbortController();
    const inFlight = sender.send(records(0, 1), first.signal);
    const waiting = sender.send(records(1, 1), second.signal);
    await tick();
    first.abort();
    second.abort();
    await assert.rejects(waiting, (e: unknown) => e instanceof SendNotStarted);
    pending.shift()!.resolve();
    await inFlight;
    await tick();
    assert.deepEqual(sent, [["k0"]], "the abandoned send never went out");
  });

  it("sends a group refused for good again waiter by waiter, so only the bad one fails", async () => {
    const tooLarge = new Error("MESSAGE_TOO_LARGE");
    const sends: number[][] = [];
    const sender = new SerialSender<number>(
      async (items) => {
        await tick(2);
        sends.push(items);
        if (items.includes(13)) throw tooLarge;
      },
      100,
      (error) => error === tooLarge,
    );
    const results = await Promise.allSettled([
      sender.send([1]),
      sender.send([2]),
      sender.send([13]),
      sender.send([4]),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["fulfilled", "fulfilled", "rejected", "fulfilled"],
    );
    assert.deepEqual(sends, [[1], [2, 13, 4], [2], [13], [4]]);
  });

  it("never overlaps sends, and groups what arrived meanwhile into the next one", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const sends: number[][] = [];
    const sender = new SerialSender<number>(async (items) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      sends.push(items);
      await tick(5);
      inFlight--;
    }, 100);
    await Promise.all([1, 2, 3, 4].map((n) => sender.send([n])));
    assert.equal(maxInFlight, 1);
    assert.deepEqual(sends, [[1], [2, 3, 4]]);
  });

  it("fails only the callers whose send failed", async () => {
    let calls = 0;
    const sender = new SerialSender<number>(async () => {
      await tick(1);
      if (calls++ === 0) throw new Error("first send fails");
    }, 100);
    const results = await Promise.allSettled([sender.send([1]), sender.send([2])]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["rejected", "fulfilled"],
    );
  });
});

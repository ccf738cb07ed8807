import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KafkaMessage } from "kafkajs";
import { ApplyAborted, type ApplyOutcome } from "../../../shared/changelog/applier.js";
import {
  applyBatchInChunks,
  type BatchPayload,
} from "../../../shared/changelog/batch-in-chunks.js";
import type {
  ChangelogSource,
  ConsumerObserver,
  PartitionLag,
} from "../../../shared/changelog/consumer-observer.js";

const SOURCE: ChangelogSource = { topic: "a.strata.p.changelog", region: "a" };

/**
 * The order of what happens to a fetched batch, against a payload that records every call
 * kafkajs would receive. What kafkajs does with those calls is covered by the integration
 * tests on the real Kafka; this pins the order, which they can only catch by chance.
 */
function harness(
  messageCount: number,
  options: { commit?: () => Promise<void>; apply?: (offsets: string[]) => Promise<void> } = {},
) {
  const events: string[] = [];
  let stale = false;
  const messages = Array.from(
    { length: messageCount },
    (_, i) => ({ offset: String(100 + i), timestamp: String(Date.now()) }) as KafkaMessage,
  );
  const payload: BatchPayload = {
    // Only the fields the chunk loop reads; kafkajs' Batch also has methods it never calls.
    batch: { partition: 2, highWatermark: String(100 + messageCount), messages } as never,
    resolveOffset: (offset) => events.push(`resolve ${offset}`),
    commitOffsetsIfNecessary: async () => {
      events.push("commit");
      await options.commit?.();
    },
    heartbeat: async () => {
      events.push("heartbeat");
      await Promise.resolve();
    },
    isRunning: () => true,
    isStale: () => stale,
  };
  const applier = {
    apply: async (chunk: readonly KafkaMessage[]): Promise<ApplyOutcome> => {
      const offsets = chunk.map((m) => m.offset);
      events.push(`apply ${offsets.join(",")}`);
      await options.apply?.(offsets);
      return {
        byView: new Map([["stats@1", { applied: chunk.length, stale: 0, concurrent: 0 }]]),
        rejected: [],
        maxEventTsMs: undefined,
      };
    },
  };
  const observer: ConsumerObserver = {
    applied: (outcome) => events.push(`applied ${outcome.byView.get("stats@1")!.applied}`),
    lag: (partition, lag) => events.push(`lag p${partition} ${lag.records}`),
  };
  return { events, payload, applier, observer, goStale: () => (stale = true) };
}

describe("applying a fetched batch in chunks", () => {
  it("reports each chunk after Redis applied it and before its offset is resolved and committed", async () => {
    const h = harness(5);
    await applyBatchInChunks(h.payload, h.applier, 2, h.observer, SOURCE);
    assert.deepEqual(h.events, [
      ...["apply 100,101", "applied 2", "lag p2 3", "resolve 101", "commit", "heartbeat"],
      ...["apply 102,103", "applied 2", "lag p2 1", "resolve 103", "commit", "heartbeat"],
      ...["apply 104", "applied 1", "lag p2 0", "resolve 104", "commit", "heartbeat"],
    ]);
  });

  it("has reported a chunk whose commit fails: kafkajs may commit its resolved offset anyway", async () => {
    const h = harness(4, { commit: () => Promise.reject(new Error("rebalance in progress")) });
    await assert.rejects(
      applyBatchInChunks(h.payload, h.applier, 2, h.observer, SOURCE),
      /rebalance/,
    );
    assert.deepEqual(h.events, ["apply 100,101", "applied 2", "lag p2 2", "resolve 101", "commit"]);
  });

  it("neither reports nor resolves a chunk whose apply was abandoned", async () => {
    const h = harness(4, {
      apply: (offsets) =>
        offsets[0] === "102" ? Promise.reject(new ApplyAborted()) : Promise.resolve(),
    });
    await applyBatchInChunks(h.payload, h.applier, 2, h.observer, SOURCE);
    assert.deepEqual(h.events.slice(6), ["apply 102,103"]);
    assert.equal(h.events.filter((e) => e.startsWith("resolve")).at(-1), "resolve 101");
  });

  it("stops between chunks once the partition is taken away", async () => {
    const h = harness(6);
    const applier = {
      apply: async (chunk: readonly KafkaMessage[]) => {
        const outcome = await h.applier.apply(chunk);
        h.goStale();
        return outcome;
      },
    };
    await applyBatchInChunks(h.payload, applier, 2, h.observer, SOURCE);
    assert.deepEqual(
      h.events.filter((e) => e.startsWith("apply ")),
      ["apply 100,101"],
    );
  });

  it("reports each chunk's source and its slowest record's produce and event lag", async () => {
    const now = Date.now();
    // Produce times out of order within a chunk (two writers' records interleaved by MM2).
    const produced = [now - 4_000, now - 9_000, now - 1_000];
    const messages = produced.map(
      (ts, i) => ({ offset: String(10 + i), timestamp: String(ts) }) as KafkaMessage,
    );
    const seen: { lag: PartitionLag; source: ChangelogSource; outcomeSource: string }[] = [];
    let outcomeSource = "";
    await applyBatchInChunks(
      {
        batch: { partition: 1, highWatermark: "13", messages } as never,
        resolveOffset: () => undefined,
        commitOffsetsIfNecessary: () => Promise.resolve(),
        heartbeat: () => Promise.resolve(),
        isRunning: () => true,
        isStale: () => false,
      },
      {
        apply: () =>
          Promise.resolve({
            byView: new Map(),
            rejected: [],
            maxEventTsMs: now - 2_000,
            minEventTsMs: now - 60_000,
          }),
      },
      10,
      {
        applied: (_, source) => (outcomeSource = source.region),
        lag: (_, lag, source) => seen.push({ lag, source, outcomeSource }),
      },
      SOURCE,
    );
    assert.equal(seen.length, 1);
    const { lag, source } = seen[0]!;
    assert.deepEqual(source, SOURCE);
    assert.equal(seen[0]!.outcomeSource, "a");
    const near = (actual: number | undefined, expected: number) =>
      assert.ok(
        actual !== undefined && actual >= expected && actual < expected + 1_000,
        `${actual} is about ${expected}`,
      );
    near(lag.produceToAppliedMs, 1_000);
    near(lag.maxProduceToAppliedMs, 9_000);
    near(lag.eventToAppliedMs, 2_000);
    near(lag.maxEventToAppliedMs, 60_000);
  });
});

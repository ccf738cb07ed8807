import type { Admin } from "kafkajs";

/**
 * Records per partition of `topic` that consumer group `groupId` has not committed: the log
 * end minus the committed offset (minus the log start when the group committed nothing yet).
 * Read from the brokers, so it is right for idle partitions too.
 */
export async function committedLag(
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
  return new Map(
    ends.map((end) => {
      const offset = done.get(end.partition) ?? -1;
      const from = offset < 0 ? Number(end.low) : offset;
      return [end.partition, Math.max(0, Number(end.high) - from)];
    }),
  );
}

/** Polls until the group has committed every record of the topic; returns the milliseconds it took. */
export async function waitUntilCommitted(
  admin: Admin,
  groupId: string,
  topic: string,
  timeoutMs: number,
  pollMs = 20,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    const lag = await committedLag(admin, groupId, topic);
    if ([...lag.values()].every((records) => records === 0)) return performance.now() - started;
    if (performance.now() - started > timeoutMs) {
      throw new Error(
        `group ${groupId} did not commit all of ${topic} within ${timeoutMs} ms: lag ${JSON.stringify([...lag])}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

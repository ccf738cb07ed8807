import type { Admin } from "kafkajs";
import type { StackLayout } from "./layout.js";
import { PROBE_TOPIC } from "./services/mirror-maker-config.js";
import { stackKafka, withAdmin } from "./stack-kafka.js";

/** The probe topic in every region (one partition), so MM2 sees it on its first listing. */
export async function ensureProbeTopics(layout: StackLayout): Promise<void> {
  await Promise.all(
    layout.regions.map((region) =>
      withAdmin(region, async (admin) => {
        const existing = await admin.listTopics();
        if (existing.includes(PROBE_TOPIC)) return;
        await admin.createTopics({
          topics: [{ topic: PROBE_TOPIC, numPartitions: 1, replicationFactor: 1 }],
        });
      }),
    ),
  );
}

/** Produces one probe record in every region; returns its timestamp (the same in all). */
export async function produceProbes(layout: StackLayout): Promise<number> {
  const timestamp = Date.now();
  await Promise.all(
    layout.regions.map(async (region) => {
      const producer = stackKafka(region, "strata-stack-probe").producer();
      await producer.connect();
      try {
        await producer.send({
          topic: PROBE_TOPIC,
          messages: [{ value: `probe from ${region.name}`, timestamp: String(timestamp) }],
        });
      } finally {
        await producer.disconnect();
      }
    }),
  );
  return timestamp;
}

/**
 * The flows (`source->target`) whose target does not yet hold a probe record of `timestamp`
 * or later in `<source>.strata-stack.probe`. MM2 keeps record timestamps, so a list-offsets by
 * timestamp on the target tells whether the new probe crossed, without consuming anything.
 */
export async function flowsNotYetCarrying(
  layout: StackLayout,
  timestamp: number,
): Promise<string[]> {
  const pending: string[] = [];
  await Promise.all(
    layout.regions.map((target) =>
      withAdmin(target, async (admin) => {
        const topics = new Set(await admin.listTopics());
        for (const source of layout.regions) {
          if (source === target) continue;
          const remote = `${source.name}.${PROBE_TOPIC}`;
          const crossed = topics.has(remote) && (await hasRecordSince(admin, remote, timestamp));
          if (!crossed) pending.push(`${source.name}->${target.name}`);
        }
      }),
    ),
  );
  return pending.sort();
}

async function hasRecordSince(admin: Admin, topic: string, timestamp: number): Promise<boolean> {
  const [atTime, high] = await Promise.all([
    admin.fetchTopicOffsetsByTimestamp(topic, timestamp),
    admin.fetchTopicOffsets(topic),
  ]);
  // The first offset at or after `timestamp` is below the end offset only if such a record exists.
  return atTime.some(({ partition, offset }) => {
    const end = high.find((entry) => entry.partition === partition)?.high;
    return end !== undefined && BigInt(offset) < BigInt(end);
  });
}

import { randomUUID } from "node:crypto";
import type { Admin } from "kafkajs";
import type { RegionLayout, StackLayout } from "./layout.js";
import { stackKafka, withAdmin } from "./stack-kafka.js";
import { REPLICATED_TOPICS } from "./services/mirror-maker-config.js";

/** How far one flow `source->target` is behind. Approximate: see docs/regions.md. */
export interface FlowLag {
  source: string;
  target: string;
  /** Source topics of the flow (changelogs and registries). */
  topics: number;
  /** Σ over partitions of (source end offset − replicated end offset), never negative. */
  records: number;
  /** Age of the oldest record not yet replicated (0 when caught up); undefined if unread. */
  seconds: number | undefined;
  /** Set when a region could not be asked (its broker down, say). */
  error?: string;
}

const REPLICATED = new RegExp(`^(?:${REPLICATED_TOPICS.join("|")})$`);
const READ_TIMEOUT_MS = 5_000;

type EndOffsets = Map<string, Map<number, bigint>>;

/** Every flow's lag, from end offsets on both sides and, where behind, one record's timestamp. */
export async function replicationLag(layout: StackLayout): Promise<FlowLag[]> {
  const ends = new Map<string, EndOffsets | Error>();
  await Promise.all(
    layout.regions.map(async (region) => {
      ends.set(region.name, await endOffsets(region).catch((error: Error) => error));
    }),
  );
  const flows: FlowLag[] = [];
  for (const source of layout.regions) {
    for (const target of layout.regions) {
      if (source !== target) flows.push(await flowLag(source, target, ends));
    }
  }
  return flows;
}

async function flowLag(
  source: RegionLayout,
  target: RegionLayout,
  ends: Map<string, EndOffsets | Error>,
): Promise<FlowLag> {
  const flow = { source: source.name, target: target.name };
  const sourceEnds = ends.get(source.name);
  const targetEnds = ends.get(target.name);
  if (sourceEnds instanceof Error || targetEnds instanceof Error || !sourceEnds || !targetEnds) {
    const error = [sourceEnds, targetEnds].find((e) => e instanceof Error);
    return { ...flow, topics: 0, records: 0, seconds: undefined, error: error?.message };
  }
  const behind: { topic: string; partition: number; offset: bigint }[] = [];
  let records = 0n;
  let topics = 0;
  for (const [topic, partitions] of sourceEnds) {
    if (!REPLICATED.test(topic)) continue;
    topics++;
    const replicated = targetEnds.get(`${source.name}.${topic}`);
    for (const [partition, end] of partitions) {
      const copied = replicated?.get(partition) ?? 0n;
      if (end > copied) {
        records += end - copied;
        behind.push({ topic, partition, offset: copied });
      }
    }
  }
  if (behind.length === 0) return { ...flow, topics, records: 0, seconds: 0 };
  const oldest = await oldestTimestamp(source, behind).catch(() => undefined);
  return {
    ...flow,
    topics,
    records: Number(records),
    seconds: oldest === undefined ? undefined : Math.max(0, (Date.now() - oldest) / 1000),
  };
}

/** End offsets of every non-internal topic of one region. */
async function endOffsets(region: RegionLayout): Promise<EndOffsets> {
  return withAdmin(region, async (admin: Admin) => {
    const topics = (await admin.listTopics()).filter((topic) => !topic.startsWith("__"));
    const result: EndOffsets = new Map();
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      result.set(topic, new Map(offsets.map((o) => [o.partition, BigInt(o.high)])));
    }
    return result;
  });
}

/**
 * The oldest timestamp among the source records at the given offsets (the first record not
 * yet replicated, per partition): a throwaway consumer group reads one record per partition,
 * bounded by READ_TIMEOUT_MS.
 */
async function oldestTimestamp(
  source: RegionLayout,
  wanted: { topic: string; partition: number; offset: bigint }[],
): Promise<number | undefined> {
  const groupId = `strata-stack-lag-${randomUUID()}`;
  const kafka = stackKafka(source, "strata-stack-lag");
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const key = (topic: string, partition: number) => `${topic}/${partition}`;
  const pending = new Map(wanted.map((w) => [key(w.topic, w.partition), w.offset]));
  const timestamps: number[] = [];
  let finish = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...new Set(wanted.map((w) => w.topic))] });
    await consumer.run({
      autoCommit: false,
      eachMessage: ({ topic, partition, message }) => {
        const from = pending.get(key(topic, partition));
        if (from !== undefined && BigInt(message.offset) >= from) {
          pending.delete(key(topic, partition));
          timestamps.push(Number(message.timestamp));
          if (pending.size === 0) finish();
        }
        return Promise.resolve();
      },
    });
    for (const w of wanted) {
      consumer.seek({ topic: w.topic, partition: w.partition, offset: String(w.offset) });
    }
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, READ_TIMEOUT_MS))]);
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await withAdmin(source, (admin) => admin.deleteGroups([groupId])).catch(() => undefined);
  }
  return timestamps.length === 0 ? undefined : Math.min(...timestamps);
}

export function formatFlowLags(flows: FlowLag[]): string {
  return flows
    .map((flow) => {
      const name = `${flow.source}->${flow.target}`.padEnd(12);
      if (flow.error) return `flow     ${name} unknown (${flow.error})`;
      const seconds = flow.seconds === undefined ? "?" : flow.seconds.toFixed(1);
      return `flow     ${name} lag ${flow.records} records, ${seconds}s  (${flow.topics} topics)`;
    })
    .join("\n");
}

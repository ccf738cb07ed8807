import type { Admin, Kafka } from "kafkajs";
import { StrataError } from "../errors.js";
import type { OnlineStore } from "../online-store/online-store.js";
import type { EventTimeLimit } from "../versions/event-time.js";
import { ChangelogApplier, type RejectedRecord } from "./applier.js";
import { readTopicRanges, type OffsetRange } from "./read-ranges.js";
import { changelogTopic, replicatedChangelogTopic } from "./topics.js";

export interface ReplayOptions {
  kafka: Kafka;
  /** The store to rebuild (usually over an empty Redis). */
  store: OnlineStore;
  /**
   * The peers whose replicated changelogs this region applies (STRATA_PEER_REGIONS): their
   * copies are replayed too, so a rebuilt region holds every region's writes, as live.
   */
  peerRegions?: readonly string[];
  /** Replay records produced at or after this time (ms); from the beginning when absent. */
  fromTimestampMs?: number;
  /** Progress, after every applied chunk. */
  onProgress?: (progress: ReplayProgress) => void;
  chunkSize?: number;
  /** Records with an event time beyond their produce time plus this skew are rejected, as live. */
  eventTime?: Partial<EventTimeLimit>;
}

export interface ReplayProgress {
  records: number;
  total: number;
  applied: number;
  stale: number;
  rejected: number;
}

export interface ReplayReport extends ReplayProgress {
  elapsedMs: number;
  /** Records that could not be applied (they are in the dead-letter topic since live consumption). */
  rejectedSamples: {
    topic: string;
    partition: number;
    offset: string;
    code: string;
    message: string;
  }[];
  /** Peers' copies that do not exist on these brokers (nothing replicated yet): skipped. */
  missingTopics: string[];
}

/**
 * Rebuilds a region's Redis from the changelog, and from each peer's replicated copy when
 * given peers: reads every partition of each from the beginning
 * (or from the first offset at `fromTimestampMs`) up to the end offsets seen at start, and
 * applies every record with the same CAS as the live consumer, so the order records arrive
 * in does not matter. It reads with a throwaway consumer group and commits nothing, so the
 * live consumer's offsets are untouched. The same replay pre-warms a new feature version.
 */
export async function replayChangelog(options: ReplayOptions): Promise<ReplayReport> {
  const started = performance.now();
  const project = options.store.registry.project;
  const topic = changelogTopic(project);
  const admin = options.kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    if (!existing.has(topic)) {
      throw new StrataError(
        "STRATA_E_BAD_CONFIG",
        `the changelog ${topic} does not exist on these brokers: check KAFKA_BROKERS and the feature repo's project`,
        { topic },
      );
    }
    const copies = (options.peerRegions ?? []).map((peer) =>
      replicatedChangelogTopic(project, peer),
    );
    const topics = [topic, ...copies.filter((t) => existing.has(t))];
    const plans = new Map<string, Map<number, OffsetRange>>();
    for (const t of topics) plans.set(t, await rangesOf(admin, t, options.fromTimestampMs));
    let total = 0;
    for (const ranges of plans.values()) {
      for (const r of ranges.values()) total += Number(r.end - r.from);
    }
    const progress: ReplayProgress = { records: 0, total, applied: 0, stale: 0, rejected: 0 };
    const rejectedSamples: ReplayReport["rejectedSamples"] = [];
    // One topic after another: the CAS makes the result independent of the order.
    for (const [t, ranges] of plans) {
      await applyRanges(options, t, ranges, progress, rejectedSamples);
    }
    return {
      ...progress,
      rejectedSamples,
      missingTopics: copies.filter((t) => !existing.has(t)),
      elapsedMs: performance.now() - started,
    };
  } finally {
    await admin.disconnect();
  }
}

/** The offsets of `topic` to read, per partition: from the start or the timestamp to the end now. */
async function rangesOf(
  admin: Admin,
  topic: string,
  fromTimestampMs: number | undefined,
): Promise<Map<number, OffsetRange>> {
  const ends = await admin.fetchTopicOffsets(topic);
  const starts =
    fromTimestampMs === undefined
      ? ends.map((p) => ({ partition: p.partition, offset: p.low }))
      : await admin.fetchTopicOffsetsByTimestamp(topic, fromTimestampMs);
  const ranges = new Map<number, OffsetRange>();
  for (const end of ends) {
    const start = starts.find((s) => s.partition === end.partition)!;
    // -1: no record at or after the timestamp.
    const from = start.offset === "-1" ? BigInt(end.high) : BigInt(start.offset);
    if (from < BigInt(end.high)) ranges.set(end.partition, { from, end: BigInt(end.high) });
  }
  return ranges;
}

async function applyRanges(
  options: ReplayOptions,
  topic: string,
  ranges: ReadonlyMap<number, OffsetRange>,
  progress: ReplayProgress,
  rejectedSamples: ReplayReport["rejectedSamples"],
): Promise<void> {
  const chunkSize = options.chunkSize ?? 2_000;
  // Once the read ends (done, or failed), a retry inside the applier must not go on.
  let stopping = false;
  const applier = new ChangelogApplier({
    store: options.store,
    reject: (records: RejectedRecord[]) => {
      progress.rejected += records.length;
      for (const r of records.slice(0, Math.max(0, 20 - rejectedSamples.length))) {
        rejectedSamples.push({
          topic,
          partition: r.partition,
          offset: r.message.offset,
          code: r.error.code,
          message: r.error.message,
        });
      }
      return Promise.resolve();
    },
    shouldContinue: () => !stopping,
    eventTime: options.eventTime,
  });
  try {
    await readTopicRanges(
      options.kafka,
      topic,
      ranges,
      async (partition, messages, heartbeat) => {
        for (let i = 0; i < messages.length; i += chunkSize) {
          const chunk = messages.slice(i, i + chunkSize);
          const outcome = await applier.apply(chunk, partition);
          for (const counts of outcome.byView.values()) {
            progress.applied += counts.applied;
            progress.stale += counts.stale;
          }
          progress.records += chunk.length;
          options.onProgress?.({ ...progress });
          await heartbeat();
        }
      },
      { groupPrefix: "strata.replay", partitionsConsumedConcurrently: 3 },
    );
  } finally {
    stopping = true;
  }
}

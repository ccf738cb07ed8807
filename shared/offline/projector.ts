import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from "kafkajs";
import {
  changelogSources,
  DEFAULT_REGISTRY_WAIT_MS,
  type ChangelogSource,
} from "../changelog/changelog-consumer.js";
import { createKeyPartitioner } from "../changelog/partitioner.js";
import { decodeChangelogRecord } from "../changelog/record.js";
import { RegistryCatchUp } from "../changelog/registry-catch-up.js";
import { isStrataError } from "../errors.js";
import { decodeEntityKey } from "../key-codec.js";
import type { FeatureRegistry } from "../registry/feature-registry.js";
import type { LiveRegistry } from "../registry/live-registry.js";
import { checkEventTime, eventTimeLimit, type EventTimeLimit } from "../versions/event-time.js";
import { projectRecord } from "./connect-record.js";
import type { AggregationDecoders } from "../aggregations/index.js";
import { aggregationSourceTopics, projectEventChunk, type ProjectedChunk } from "./event-chunk.js";
import { offlineTopic } from "./topics.js";

export interface ProjectorOptions {
  kafka: Kafka;
  project: string;
  /** The region whose changelog (and peers' copies) it projects: one group per region. */
  region: string;
  /** The peers whose replicated changelogs the region's consumer applies: projected too. */
  peerRegions?: readonly string[];
  /**
   * The registry records are decoded against: the one served when a chunk starts, or a newer
   * one when the chunk holds records of a view (or features) it does not know, waited for as
   * the apply path waits (RegistryCatchUp), so that both judge a record alike.
   */
  live: LiveRegistry;
  /** How long such a chunk waits for a newer registry (default DEFAULT_REGISTRY_WAIT_MS). */
  registryWaitMs?: number;
  /** Records the apply path dead-letters for their event time are not projected either. */
  eventTime?: Partial<EventTimeLimit>;
  /**
   * Decoders of aggregation sources besides push (the events topic) and `topic` sources,
   * e.g. the CDC one: the projector reads every aggregation source topic of the registry at
   * start, as the aggregation consumer does, and writes each event to its view major's event
   * table with its origin.
   */
  aggregationDecoders?: AggregationDecoders;
  /** Records produced per send; offsets are committed after each is acknowledged. */
  chunkSize?: number;
  observer?: ProjectorObserver;
}

/** What the projector reports, for metrics and logs. */
export interface ProjectorObserver {
  /**
   * A chunk was produced to the offline topic and acknowledged: records per view major, and
   * where they landed (base offset per offline partition), before its offsets are committed.
   */
  projected?(byView: ReadonlyMap<string, number>, produced: readonly ProducedBatch[]): void;
  /** A changelog record it cannot project (the apply path dead-letters the same record). */
  skipped?(source: ChangelogSource, message: KafkaMessage, reason: string, code: string): void;
}

/** Where one acknowledged send put its records in the offline topic. */
export interface ProducedBatch {
  partition: number;
  /** The first offset of the send's records in that partition. */
  baseOffset: number;
  /** When the send was acknowledged (ms). */
  atMs: number;
}

/** The projector's consumer group for a region: separate from the apply group, so neither waits for the other. */
export function projectorGroupId(project: string, region: string): string {
  return `strata.${project}.${region}.offline`;
}

export const PROJECTOR_DEFAULTS = { chunkSize: 2_000 } as const;

/**
 * Turns every changelog record of a region (its own changelog and its peers' replicated
 * copies) into the typed Kafka Connect record of its view major's Iceberg table
 * (projectRecord) on the offline topic, which the Iceberg sink writes. At-least-once: a
 * chunk's offsets are committed only after Kafka acknowledged its records (acks=all), so a
 * crash repeats at most the chunks in flight, and a repeated record is the same row
 * (same entity, same strata_version) again. Its own consumer group, so the online apply
 * path never waits for it.
 */
export class OfflineProjector {
  private constructor(
    private readonly consumer: Consumer,
    private readonly producer: Producer,
  ) {}

  static async start(options: ProjectorOptions): Promise<OfflineProjector> {
    const { kafka, project } = options;
    const sources = changelogSources(project, options.region, options.peerRegions);
    const byTopic = new Map(sources.map((source) => [source.topic, source]));
    const topic = offlineTopic(project);
    const chunkSize = options.chunkSize ?? PROJECTOR_DEFAULTS.chunkSize;
    const observer = options.observer ?? {};
    const consumer = kafka.consumer({
      groupId: projectorGroupId(project, options.region),
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 4 * 1024 * 1024,
      allowAutoTopicCreation: false,
    });
    // Idempotent: a retried send after a lost acknowledgement is not written twice.
    const producer = kafka.producer({
      allowAutoTopicCreation: false,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: createKeyPartitioner,
    });
    await Promise.all([consumer.connect(), producer.connect()]);
    const eventDecoders = aggregationSourceTopics(
      options.live.snapshot().registry,
      options.aggregationDecoders,
    );
    await consumer.subscribe({
      topics: [...sources.map((s) => s.topic), ...eventDecoders.keys()],
      fromBeginning: true,
    });

    const timeoutMs = options.registryWaitMs ?? DEFAULT_REGISTRY_WAIT_MS;
    const localCatchUp = new RegistryCatchUp(options.live, { timeoutMs });
    const peerCatchUp = new RegistryCatchUp(options.live, { timeoutMs, peerRecords: true });
    const limit = eventTimeLimit(options.eventTime);

    const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
      const { topic: from, partition, messages } = payload.batch;
      // Event topics are read in this region, like its own changelog.
      const source = byTopic.get(from) ?? { topic: from, region: options.region };
      const catchUp = source.region === options.region ? localCatchUp : peerCatchUp;
      const decoder = eventDecoders.get(from);
      const projectFrom = (registry: FeatureRegistry, chunk: KafkaMessage[]) =>
        decoder === undefined
          ? projectChunk(project, registry, chunk, limit)
          : projectEventChunk(project, registry, decoder, from, partition, chunk, limit.maxSkewMs);
      for (let start = 0; start < messages.length; start += chunkSize) {
        if (!payload.isRunning() || payload.isStale()) return;
        const chunk = messages.slice(start, start + chunkSize);
        const served = options.live.snapshot();
        let projected = projectFrom(served.registry, chunk);
        if (projected.unknownProducedMs !== undefined) {
          const newer = await heartbeating(
            catchUp.newer(served.version, projected.unknownProducedMs),
            payload,
          );
          if (newer) projected = projectFrom(newer.registry, chunk);
        }
        for (const { message, error } of projected.skipped) {
          observer.skipped?.(source, message, error.message, error.code);
        }
        let produced: ProducedBatch[] = [];
        if (projected.records.length > 0) {
          const acks = await producer.send({ topic, acks: -1, messages: projected.records });
          const atMs = Date.now();
          produced = acks.map((ack) => ({
            partition: ack.partition,
            baseOffset: Number(ack.baseOffset ?? ack.offset ?? 0),
            atMs,
          }));
        }
        observer.projected?.(projected.byView, produced);
        payload.resolveOffset(chunk[chunk.length - 1]!.offset);
        await payload.commitOffsetsIfNecessary();
        await payload.heartbeat();
      }
    };

    await consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      autoCommitThreshold: 1,
      partitionsConsumedConcurrently: 3,
      eachBatch,
    });
    return new OfflineProjector(consumer, producer);
  }

  /** Leaves the group after the chunk in progress is produced and committed. */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }
}

/** A chunk's records against one registry, judged as the apply path judges them (applier.ts). */
function projectChunk(
  project: string,
  registry: FeatureRegistry,
  chunk: readonly KafkaMessage[],
  limit: EventTimeLimit,
): ProjectedChunk {
  const out: ProjectedChunk = {
    records: [],
    byView: new Map(),
    skipped: [],
    unknownProducedMs: undefined,
  };
  const nowMs = limit.now();
  for (const message of chunk) {
    const key = message.key?.toString();
    // The apply path's rule: measured from the produce time when earlier than now.
    const producedMs = Number(message.timestamp);
    const fromMs = producedMs > 0 && producedMs < nowMs ? producedMs : nowMs;
    try {
      const write = decodeChangelogRecord(registry, key, message.value?.toString());
      checkEventTime(write.version.eventTsMs, fromMs + limit.maxSkewMs, limit.maxSkewMs);
      if (write.ignoredFeatures)
        out.unknownProducedMs = Math.max(out.unknownProducedMs ?? 0, fromMs);
      out.records.push({
        key: key!,
        value: projectRecord(project, write, decodeEntityKey(write.encodedKey)),
      });
      out.byView.set(write.view.key, (out.byView.get(write.view.key) ?? 0) + 1);
    } catch (error) {
      if (!isStrataError(error)) throw error;
      out.skipped.push({ message, error });
      if (error.code === "STRATA_E_UNKNOWN_VIEW") {
        out.unknownProducedMs = Math.max(out.unknownProducedMs ?? 0, fromMs);
      }
    }
  }
  return out;
}

/** Awaits `work`, heartbeating the group every second meanwhile (a registry wait can be long). */
async function heartbeating<T>(work: Promise<T>, payload: EachBatchPayload): Promise<T> {
  let done = false;
  const settled = work.finally(() => (done = true));
  while (!done) {
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    if (!done) await payload.heartbeat().catch(() => undefined);
  }
  return settled;
}

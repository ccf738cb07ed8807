import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from "kafkajs";
import { changelogSources, type ChangelogSource } from "../changelog/changelog-consumer.js";
import { createKeyPartitioner } from "../changelog/partitioner.js";
import { decodeChangelogRecord } from "../changelog/record.js";
import { isStrataError } from "../errors.js";
import { decodeEntityKey } from "../key-codec.js";
import type { FeatureRegistry } from "../registry/feature-registry.js";
import { projectRecord } from "./connect-record.js";
import { offlineTopic } from "./topics.js";

export interface ProjectorOptions {
  kafka: Kafka;
  project: string;
  /** The region whose changelog (and peers' copies) it projects: one group per region. */
  region: string;
  /** The peers whose replicated changelogs the region's consumer applies: projected too. */
  peerRegions?: readonly string[];
  /** The registry records are decoded against, read per batch (a live registry's current one). */
  registry: () => FeatureRegistry;
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
    await consumer.subscribe({ topics: sources.map((s) => s.topic), fromBeginning: true });

    const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
      const source = byTopic.get(payload.batch.topic)!;
      const { messages } = payload.batch;
      for (let start = 0; start < messages.length; start += chunkSize) {
        if (!payload.isRunning() || payload.isStale()) return;
        const chunk = messages.slice(start, start + chunkSize);
        const registry = options.registry();
        const out: { key: string; value: string }[] = [];
        const byView = new Map<string, number>();
        for (const message of chunk) {
          const key = message.key?.toString();
          try {
            const write = decodeChangelogRecord(registry, key, message.value?.toString());
            out.push({
              key: key!,
              value: projectRecord(project, write, decodeEntityKey(write.encodedKey)),
            });
            byView.set(write.view.key, (byView.get(write.view.key) ?? 0) + 1);
          } catch (error) {
            if (!isStrataError(error)) throw error;
            observer.skipped?.(source, message, error.message, error.code);
          }
        }
        let produced: ProducedBatch[] = [];
        if (out.length > 0) {
          const acks = await producer.send({ topic, acks: -1, messages: out });
          const atMs = Date.now();
          produced = acks.map((ack) => ({
            partition: ack.partition,
            baseOffset: Number(ack.baseOffset ?? ack.offset ?? 0),
            atMs,
          }));
        }
        observer.projected?.(byView, produced);
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

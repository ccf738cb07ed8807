import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from "kafkajs";
import type { RejectedRecord } from "../changelog/applier.js";
import type { ChangelogWriter } from "../changelog/changelog-writer.js";
import { sendToDeadLetter } from "../changelog/dead-letter.js";
import { deadLetterTopic } from "../changelog/topics.js";
import { isStrataError, StrataError } from "../errors.js";
import { validateWrites, type WriteRow } from "../online-store/write-path.js";
import type { ResolvedCdcSource } from "../registry/cdc-sources.js";
import type { FeatureRegistry } from "../registry/feature-registry.js";
import type { LiveRegistry } from "../registry/live-registry.js";
import { mapChange } from "./change-mapper.js";
import { ensureCdcConnectors } from "./cdc-connectors.js";
import type { CdcDatabase } from "./cdc-databases.js";
import { cdcTableTopic } from "./debezium-config.js";
import { parseDebeziumEvent } from "./debezium-event.js";

/** The CDC mapper's consumer group: `strata.<project>.<region>.cdc`. */
export function cdcGroupId(project: string, region: string): string {
  return `strata.${project}.${region}.cdc`;
}

export interface CdcMapperObserver {
  /** A chunk's rows were acknowledged by Kafka in the changelog (offsets committed next). */
  written?: (rows: number, topic: string) => void;
  /** Change events that could not become changelog records, dead-lettered with their reason. */
  deadLettered?: (records: readonly RejectedRecord[], topic: string) => void;
  connector?: (name: string, change: string) => void;
}

export interface CdcMapperOptions {
  kafka: Kafka;
  admin: Admin;
  live: LiveRegistry;
  /** Writes the changelog records; without a store, so the mapper never waits on Redis. */
  writer: ChangelogWriter;
  /** originRegion of every version the mapper writes. */
  region: string;
  /** STRATA_CDC_DATABASES, parsed. */
  databases: Readonly<Record<string, CdcDatabase>>;
  /** A Kafka Connect worker to register the Debezium connectors on; none: declared elsewhere. */
  connectUrl?: string;
  /** Change events per changelog write (and offset commit). Default 1,000. */
  chunkSize?: number;
  observer?: CdcMapperObserver;
}

/** Table topic -> the cdc sources reading it, per registry (a new registry may map more columns). */
const topicsByRegistry = new WeakMap<FeatureRegistry, Map<string, ResolvedCdcSource[]>>();

function sourcesByTopic(registry: FeatureRegistry): Map<string, ResolvedCdcSource[]> {
  let byTopic = topicsByRegistry.get(registry);
  if (!byTopic) {
    byTopic = new Map();
    for (const source of registry.cdcSources()) {
      const topic = cdcTableTopic(registry.project, source.table);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), source]);
    }
    topicsByRegistry.set(registry, byTopic);
  }
  return byTopic;
}

interface MappedChunk {
  rows: WriteRow[];
  rejected: RejectedRecord[];
}

/**
 * The CDC mapper (docs/sources.md): registers each database's Debezium connector, consumes the
 * captured tables' topics from the beginning (the initial snapshot, then the stream) and
 * writes each change as changelog records through the changelog writer. A chunk's offsets
 * are committed only after Kafka acknowledged its records, so a crash or a connector restart
 * repeats changes, never loses them; a repeated change has the same version (commit time,
 * LSN), which the CAS applies once. Events it cannot convert go to the dead-letter topic
 * with their reason before the offset moves past them.
 */
export class CdcMapper {
  private constructor(
    private readonly consumer: Consumer | undefined,
    private readonly producer: Producer | undefined,
    /** The table topics consumed. */
    readonly topics: readonly string[],
  ) {}

  static async start(options: CdcMapperOptions): Promise<CdcMapper> {
    const registry = options.live.registry;
    const { project } = registry;
    await ensureCdcConnectors(registry, options.databases, options.connectUrl, options.observer);
    const topics = [...sourcesByTopic(registry).keys()];
    if (topics.length === 0) return new CdcMapper(undefined, undefined, []);
    // Debezium creates a table's topic on its first event; the consumer needs it before.
    await options.admin.createTopics({
      topics: topics.map((topic) => ({ topic })),
      waitForLeaders: true,
    });
    const consumer = options.kafka.consumer({
      groupId: cdcGroupId(project, options.region),
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
      allowAutoTopicCreation: false,
    });
    const producer = options.kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
    await Promise.all([consumer.connect(), producer.connect()]);
    await consumer.subscribe({ topics, fromBeginning: true });
    const chunkSize = options.chunkSize ?? 1_000;
    const dlq = deadLetterTopic(project);
    const observer = options.observer ?? {};

    const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
      const { topic, partition, messages } = payload.batch;
      for (let start = 0; start < messages.length; start += chunkSize) {
        if (!payload.isRunning() || payload.isStale()) return;
        const chunk = messages.slice(start, start + chunkSize);
        // One registry per chunk: the rows are validated and written against the same one.
        const served = options.live.registry;
        const mapped = mapChunk(served, topic, partition, chunk, options);
        if (mapped.rejected.length > 0) {
          await sendToDeadLetter(producer, dlq, topic, mapped.rejected);
          observer.deadLettered?.(mapped.rejected, topic);
        }
        if (mapped.rows.length > 0) {
          await options.writer.write(mapped.rows, { wait: "acked", registry: served });
          observer.written?.(mapped.rows.length, topic);
        }
        payload.resolveOffset(chunk[chunk.length - 1]!.offset);
        await payload.commitOffsetsIfNecessary();
        await payload.heartbeat();
      }
    };
    await consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      autoCommitThreshold: 1,
      eachBatch,
    });
    return new CdcMapper(consumer, producer, topics);
  }

  /** Leaves the group after the chunk in progress is written and committed. */
  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
  }
}

/** A chunk's change events as rows to write, and those that cannot be, with why. */
function mapChunk(
  registry: FeatureRegistry,
  topic: string,
  partition: number,
  chunk: readonly KafkaMessage[],
  options: CdcMapperOptions,
): MappedChunk {
  const out: MappedChunk = { rows: [], rejected: [] };
  const sources = sourcesByTopic(registry).get(topic) ?? [];
  const bound = options.writer.eventTimeBound();
  for (const message of chunk) {
    // A Kafka tombstone (null value) follows a delete only if Debezium is told to write one.
    if (message.value === null) continue;
    try {
      const event = parseDebeziumEvent(message.value);
      const rows = sources.flatMap((source) => mapChange(event, source, options.region));
      // Checked one change at a time, so one bad change is dead-lettered, not its chunk.
      validateWrites(registry, rows, bound);
      out.rows.push(...rows);
    } catch (error) {
      const reason = rejectionOf(error);
      out.rejected.push({ message, partition, view: undefined, error: reason });
    }
  }
  return out;
}

/** A batch rejection of one change's rows is dead-lettered with its first row's own code. */
function rejectionOf(error: unknown): StrataError {
  if (!isStrataError(error)) throw error;
  if (error.code !== "STRATA_E_BATCH_REJECTED") return error;
  const first = (error.details.rejected as { code: string; message: string }[] | undefined)?.[0];
  if (!first) return error;
  return new StrataError(first.code as StrataError["code"], first.message, error.details);
}

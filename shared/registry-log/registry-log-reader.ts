import { randomUUID } from "node:crypto";
import type { Admin, Consumer, Kafka } from "kafkajs";
import { StrataError } from "../errors.js";
import { RegistryLogs, type RecordOutcome } from "./registry-order.js";
import { registryReaderGroupPrefix } from "./registry-topics.js";

export interface RegistryLogReaderOptions {
  kafka: Kafka;
  project: string;
  /** The registry topics to read (each must exist): the local one and peers' copies. */
  topics: readonly string[];
  /** Every record's outcome, in offset order per topic, as it is folded. */
  onOutcome?: (outcome: RecordOutcome) => void;
  /** Keep every accepted record (RegistryLogs.history). */
  keepHistory?: boolean;
  /**
   * How long the broker holds a fetch while there is nothing new (default 1,000 ms). New records
   * answer a fetch at once whatever this is; stop() waits for the fetch in flight, so a one-shot
   * read keeps it short.
   */
  maxWaitTimeInMs?: number;
}

interface Waiter {
  targets: Map<string, bigint>;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Reads a project's registry topics from their first offset and goes on following them,
 * folding every record into RegistryLogs. A consumer group of its own (a fresh name, nothing
 * committed, deleted on stop), because kafkajs reads only through groups; each topic has one
 * partition, so the group's one member reads all of them, each in offset order.
 */
export class RegistryLogReader {
  readonly logs: RegistryLogs;
  /** Per topic, the offset after the last record read. */
  private readonly next = new Map<string, bigint>();
  private waiters: Waiter[] = [];
  private failure: StrataError | undefined;

  private constructor(
    private readonly options: RegistryLogReaderOptions,
    private readonly consumer: Consumer,
    private readonly groupId: string,
  ) {
    this.logs = new RegistryLogs(options.project, options.keepHistory);
  }

  /** Connects and starts reading every topic from its beginning. */
  static async start(options: RegistryLogReaderOptions): Promise<RegistryLogReader> {
    // Under the readers' prefix (strata.<project>.registry-reader.), which the platforms' Kafka
    // grants name; unique, since every reader reads every record, and deleted again on stop.
    const groupId = `${registryReaderGroupPrefix(options.project)}${randomUUID()}`;
    const consumer = options.kafka.consumer({
      groupId,
      maxWaitTimeInMs: options.maxWaitTimeInMs ?? 1_000,
    });
    const reader = new RegistryLogReader(options, consumer, groupId);
    consumer.on(consumer.events.CRASH, (event) => {
      // kafkajs restarts the consumer after a retriable crash; only a final one fails the reads.
      if (!event.payload.restart) reader.fail(event.payload.error);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...options.topics], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            // A record read again (kafkajs re-fetching after a rejoin) was folded already.
            if (BigInt(message.offset) < (reader.next.get(batch.topic) ?? 0n)) continue;
            const outcome = reader.logs.add(batch.topic, message.offset, message.value);
            options.onOutcome?.(outcome);
            reader.next.set(batch.topic, BigInt(message.offset) + 1n);
          }
          // A compacted log has gaps: the high watermark says there is nothing more to read.
          const high = BigInt(batch.highWatermark);
          if ((reader.next.get(batch.topic) ?? 0n) < high && batch.messages.length === 0) {
            reader.next.set(batch.topic, high);
          }
          reader.settle();
          return Promise.resolve();
        },
      });
    } catch (error) {
      await reader.stop();
      throw unavailable(`could not read ${options.topics.join(", ")}`, error);
    }
    return reader;
  }

  /**
   * Resolves once every topic has been read up to its end offset as the brokers report it now,
   * or fails with STRATA_E_REGISTRY_UNAVAILABLE after `timeoutMs`.
   */
  async readToEnd(admin: Admin, timeoutMs: number): Promise<void> {
    const targets = new Map<string, bigint>();
    for (const topic of this.options.topics) {
      const [partition] = await admin.fetchTopicOffsets(topic);
      if (partition && BigInt(partition.high) > BigInt(partition.low)) {
        targets.set(topic, BigInt(partition.high));
      }
    }
    await this.readUpTo(targets, timeoutMs);
  }

  /** Resolves once each topic has been read up to (excluding) its target offset. */
  readUpTo(targets: Map<string, bigint>, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const behind = [...targets]
          .filter(([topic, end]) => (this.next.get(topic) ?? 0n) < end)
          .map(([topic, end]) => `${topic} (read to ${this.next.get(topic) ?? 0n} of ${end})`);
        reject(
          unavailable(
            `the registry was not read to its end within ${timeoutMs} ms: ${behind.join(", ")}`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        targets,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(waiter);
      this.settle();
    });
  }

  /** Stops reading and deletes the reader's consumer group. */
  async stop(): Promise<void> {
    for (const waiter of this.waiters) waiter.reject(unavailable("the registry reader stopped"));
    this.waiters = [];
    await this.consumer.disconnect().catch(() => undefined);
    const admin = this.options.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.groupId]);
    } catch {
      // An empty group with no offsets expires on its own; deleting it is only tidiness.
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private settle(): void {
    if (this.failure !== undefined) {
      for (const waiter of this.waiters) waiter.reject(this.failure);
      this.waiters = [];
      return;
    }
    this.waiters = this.waiters.filter((waiter) => {
      for (const [topic, end] of waiter.targets) {
        if ((this.next.get(topic) ?? 0n) < end) return true;
      }
      waiter.resolve();
      return false;
    });
  }

  private fail(error: unknown): void {
    this.failure = unavailable("the registry reader's Kafka consumer crashed", error);
    this.settle();
  }
}

function unavailable(message: string, cause?: unknown): StrataError {
  const detail = cause instanceof Error ? `: ${cause.message}` : "";
  return new StrataError("STRATA_E_REGISTRY_UNAVAILABLE", `${message}${detail}`, {}, { cause });
}

import type { Admin, Kafka } from "kafkajs";
import { StrataError } from "../errors.js";
import type { ChangelogTopicConfig } from "../changelog/topics.js";
import type { RegistrySourceCapabilities } from "../registry/live-registry.js";
import type {
  RegistryListener,
  RegistrySource,
  ServedRegistry,
} from "../registry/registry-source.js";
import { compareRegistries } from "./published-registry.js";
import { DEFAULT_REGISTRY_TIMEOUT_MS } from "./read-published.js";
import { RegistryLogReader } from "./registry-log-reader.js";
import type { RecordOutcome, RegistryEntry } from "./registry-order.js";
import { ensureRegistryTopics, registryTopics } from "./registry-topics.js";

export interface KafkaRegistrySourceOptions {
  kafka: Kafka;
  project: string;
  /**
   * Peers whose registry topics replication carries here (STRATA_PEER_REGIONS): their copies
   * `<peer>.strata.<project>.registry` are followed too, and the winner is picked across all.
   */
  peerRegions?: readonly string[];
  /** This process' region (STRATA_REGION), which no peer may be. */
  region?: string;
  /** How long start() waits to read the registry topics to their end (default 30,000 ms). */
  startTimeoutMs?: number;
  /** Replicas of the registry topics it creates where missing (default: the changelog's defaults). */
  topics?: ChangelogTopicConfig;
}

/**
 * The project's published registry, followed live: a RegistrySource for serving and the
 * consumer. start() creates the registry topic and the peers' copies where missing (so that
 * a copy's first replicated record is seen), reads them all from the beginning to their end,
 * and resolves with the winner (registry-order.ts); it throws STRATA_E_NO_REGISTRY when no
 * valid registry is published, STRATA_E_REGISTRY_UNAVAILABLE when the topics are not read to
 * their end within startTimeoutMs. Afterwards every record is folded as it arrives: a new
 * winner goes to onRegistry, an invalid record to onRefused (the served registry stays).
 * Records read at start that fail validation go to onRefused too. The listener must not
 * throw: an exception is rethrown outside the consumer, as an uncaught error.
 */
export function kafkaRegistrySource(
  options: KafkaRegistrySourceOptions,
): RegistrySource & RegistrySourceCapabilities {
  return new KafkaRegistrySource(options);
}

class KafkaRegistrySource implements RegistrySource, RegistrySourceCapabilities {
  /** It delivers every registry published after start. */
  readonly follows = true;
  private reader: RegistryLogReader | undefined;
  private listener: RegistryListener | undefined;
  private served: RegistryEntry | undefined;

  constructor(private readonly options: KafkaRegistrySourceOptions) {
    const { region, peerRegions = [] } = options;
    if (region !== undefined && peerRegions.includes(region)) {
      throw new StrataError(
        "STRATA_E_BAD_CONFIG",
        `peer regions ${peerRegions.join(",")} name this process' own region ${region}`,
        { variable: "STRATA_PEER_REGIONS" },
      );
    }
  }

  async start(listener: RegistryListener): Promise<ServedRegistry> {
    if (this.reader) throw new Error("the registry source is already started");
    this.listener = listener;
    const { kafka, project } = this.options;
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topics = await this.topicsToFollow(admin);
      if (topics.length === 0) throw noRegistry(project, topics);
      this.reader = await RegistryLogReader.start({
        kafka,
        project,
        topics,
        onOutcome: (outcome) => this.fold(outcome),
      });
      await this.reader.readToEnd(
        admin,
        this.options.startTimeoutMs ?? DEFAULT_REGISTRY_TIMEOUT_MS,
      );
      const winner = this.reader.logs.winner();
      if (!winner) throw noRegistry(project, topics);
      this.served = winner;
      return servedRegistry(winner);
    } catch (error) {
      await this.stop();
      throw error;
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * The registry topics, created where missing. A process that may not create topics (an ACL
   * without CreateTopics) follows those that exist: a copy created later is followed from the
   * next start.
   */
  private async topicsToFollow(admin: Admin): Promise<string[]> {
    const { project, peerRegions = [] } = this.options;
    const wanted = registryTopics(project, peerRegions);
    try {
      await ensureRegistryTopics(admin, project, { peerRegions, config: this.options.topics });
      return wanted;
    } catch (error) {
      const type = (error as { type?: string }).type ?? "";
      if (!AUTHORIZATION_ERRORS.has(type)) throw error;
      const existing = new Set(await admin.listTopics());
      return wanted.filter((topic) => existing.has(topic));
    }
  }

  /**
   * Resolves once every record published before the call has been read and reached the
   * listener (onRegistry or onRefused); STRATA_E_REGISTRY_UNAVAILABLE after startTimeoutMs.
   */
  async refresh(): Promise<void> {
    const reader = this.reader;
    if (!reader) return;
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      await reader.readToEnd(admin, this.options.startTimeoutMs ?? DEFAULT_REGISTRY_TIMEOUT_MS);
    } finally {
      await admin.disconnect();
    }
  }

  async stop(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    this.served = undefined;
    await reader?.stop();
  }

  /** Each record as it is read: refusals are reported; a new winner, once started, is swapped in. */
  private fold(outcome: RecordOutcome): void {
    if (outcome.kind === "refused") {
      const refusal = { error: outcome.error, origin: `kafka:${outcome.topic}@${outcome.offset}` };
      notify(() => this.listener?.onRefused(refusal));
      return;
    }
    if (outcome.kind !== "accepted" || !this.served) return;
    const winner = this.reader?.logs.winner();
    if (winner && compareRegistries(winner.record, this.served.record) > 0) {
      this.served = winner;
      notify(() => this.listener?.onRegistry(servedRegistry(winner)));
    }
  }
}

function noRegistry(project: string, topics: string[]): StrataError {
  return new StrataError(
    "STRATA_E_NO_REGISTRY",
    `no valid registry is published for project ${project} (read: ${topics.join(", ") || "no registry topic exists"}); publish one with strata apply`,
    { project, topics },
  );
}

const AUTHORIZATION_ERRORS = new Set([
  "TOPIC_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
]);

/**
 * Calls the process' listener outside the Kafka consumer: an exception it throws is a bug of
 * the listener, and must not make kafkajs retry the batch (the record is folded already).
 */
function notify(call: () => void): void {
  try {
    call();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

function servedRegistry(entry: RegistryEntry): ServedRegistry {
  return {
    registry: entry.registry,
    version: entry.record.version,
    hash: entry.record.hash,
    origin: `kafka:${entry.topic}@${entry.offset}`,
  };
}

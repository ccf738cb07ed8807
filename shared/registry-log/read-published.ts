import type { Admin, Kafka } from "kafkajs";
import type { StrataError } from "../errors.js";
import type { PublishedRegistry } from "./published-registry.js";
import { RegistryLogReader } from "./registry-log-reader.js";
import type { RecordOutcome, RegistryEntry } from "./registry-order.js";
import { registryTopics } from "./registry-topics.js";

/** How long a read of the registry waits for Kafka by default. */
export const DEFAULT_REGISTRY_TIMEOUT_MS = 30_000;

export interface ReadPublishedOptions {
  kafka: Kafka;
  project: string;
  /** Peers whose registry copies (`<peer>.strata.<project>.registry`) are read too. */
  peerRegions?: readonly string[];
  /** The most the read waits for Kafka (default 30,000 ms), then STRATA_E_REGISTRY_UNAVAILABLE. */
  timeoutMs?: number;
}

interface OpenOptions extends ReadPublishedOptions {
  /** Every record's outcome as it is folded. */
  onOutcome?: (outcome: RecordOutcome) => void;
}

/** A record read but not valid, with where it is. */
export interface RefusedRecord {
  topic: string;
  offset: string;
  error: StrataError;
}

/** The project's published registry as this region sees it now. */
export interface PublishedState {
  /** The winner over the local topic and the peers' copies; undefined when none is published. */
  latest: RegistryEntry | undefined;
  /** The topics read, local first. */
  topics: string[];
  /** Registry topics that do not exist on these brokers (nothing published or replicated yet). */
  missingTopics: string[];
  /** Records that failed validation (ignored). */
  refused: RefusedRecord[];
  /** Every accepted record of every log read, ranked as every region ranks them (oldest first). */
  history: PublishedRegistry[];
}

/**
 * Reads the project's registry topic and the peers' copies to their ends once, and returns
 * the registry that wins (registry-order.ts). What plan and apply start from.
 */
export async function readPublishedRegistry(
  options: ReadPublishedOptions,
): Promise<PublishedState> {
  const opened = await openPublishedRegistry(options);
  await opened.close();
  return opened.state();
}

/** An open read of the registry (apply keeps reading after it published, to check its record). */
export interface OpenedRegistry {
  reader: RegistryLogReader | undefined;
  admin: Admin;
  state(): PublishedState;
  close(): Promise<void>;
}

export async function openPublishedRegistry(options: OpenOptions): Promise<OpenedRegistry> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_REGISTRY_TIMEOUT_MS;
  const admin = options.kafka.admin();
  await admin.connect();
  const refused: RefusedRecord[] = [];
  let reader: RegistryLogReader | undefined;
  let topics: string[] = [];
  let missingTopics: string[] = [];
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = registryTopics(options.project, options.peerRegions);
    topics = wanted.filter((topic) => existing.has(topic));
    missingTopics = wanted.filter((topic) => !existing.has(topic));
    if (topics.length > 0) {
      reader = await RegistryLogReader.start({
        kafka: options.kafka,
        project: options.project,
        topics,
        keepHistory: true,
        maxWaitTimeInMs: 100,
        onOutcome: (outcome) => {
          if (outcome.kind === "refused") refused.push(outcome);
          options.onOutcome?.(outcome);
        },
      });
      await reader.readToEnd(admin, timeoutMs);
    }
  } catch (error) {
    await reader?.stop();
    await admin.disconnect();
    throw error;
  }
  return {
    reader,
    admin,
    state: () => ({
      latest: reader?.logs.winner(),
      topics,
      missingTopics,
      refused: [...refused],
      history: reader?.logs.history() ?? [],
    }),
    close: async () => {
      await reader?.stop();
      await admin.disconnect();
    },
  };
}

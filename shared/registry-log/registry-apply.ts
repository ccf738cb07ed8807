import os from "node:os";
import type { Kafka } from "kafkajs";
import { StrataError } from "../errors.js";
import {
  DEFAULT_TOPIC_CONFIG,
  ensureChangelogTopics,
  type ChangelogTopicConfig,
} from "../changelog/topics.js";
import type { FeatureRepoDefinition } from "../registry/definitions.js";
import { FeatureRegistry } from "../registry/feature-registry.js";
import {
  compareRegistries,
  encodePublishedRegistry,
  REGISTRY_FORMAT,
  registryRecordKey,
  type PublishedRegistry,
} from "./published-registry.js";
import {
  DEFAULT_REGISTRY_TIMEOUT_MS,
  openPublishedRegistry,
  type OpenedRegistry,
} from "./read-published.js";
import { planFrom, plainDefinition, type RegistryPlan } from "./registry-plan.js";
import type { RecordOutcome, RegistryEntry } from "./registry-order.js";
import { ensureRegistryTopics, registryTopic } from "./registry-topics.js";
import { strataVersion } from "./strata-version.js";

export interface ApplyRegistryOptions {
  kafka: Kafka;
  /** The feature repo to publish; validated first (its FeatureRegistry error when it is not). */
  definition: FeatureRepoDefinition;
  /** Who applies, recorded in the published record (default STRATA_APPLIED_BY, else user@host). */
  appliedBy?: string;
  /** Publish even with incompatible changes (they are recorded in the record). Default false. */
  allowBreaking?: boolean;
  /** The region whose Kafka `kafka` reaches (STRATA_REGION; default "local"). */
  region?: string;
  /** Peers whose registry copies count when reading the latest version (STRATA_PEER_REGIONS). */
  peerRegions?: readonly string[];
  /** How the project's topics are created when missing (default DEFAULT_TOPIC_CONFIG). */
  topics?: ChangelogTopicConfig;
  /** The most each wait for Kafka takes (default 30,000 ms), then STRATA_E_REGISTRY_UNAVAILABLE. */
  timeoutMs?: number;
}

export interface ApplyResult {
  /** False when the published registry already is this definition: nothing was published. */
  published: boolean;
  /** The version now published for this definition (the existing one when nothing was published). */
  version: number;
  hash: string;
  previousHash: string | null;
  plan: RegistryPlan;
  /** The local registry topic. */
  topic: string;
  /** The published record's offset in `topic`; undefined when nothing was published. */
  offset: string | undefined;
  /** Topics this apply created (changelog, dead-letter, registry). */
  createdTopics: string[];
  /** Settings lowered to fit the cluster (see ensureChangelogTopics). */
  warnings: string[];
}

/**
 * Publishes a feature repo as the project's next registry version:
 * 1. validates it (FeatureRegistry), and creates the project's changelog, dead-letter and
 *    registry topics where missing;
 * 2. reads the published registry (local topic and peers' copies) and plans against the winner;
 *    no change: publishes nothing (`published: false`);
 * 3. refuses incompatible changes with STRATA_E_BREAKING_CHANGE unless allowBreaking;
 * 4. produces version = winner's version + 1 (acks=all, idempotent producer), then reads the
 *    registry again up to its record: when another apply's record of the same (or a higher)
 *    version landed first in the local topic, or a peer's copy holds a concurrent apply that
 *    wins the cross-region order, it fails with STRATA_E_REGISTRY_CONFLICT (409). Its record
 *    stays in the log, and every reader ignores it the same way (registry-order.ts).
 */
export async function applyRegistry(options: ApplyRegistryOptions): Promise<ApplyResult> {
  const prepared = await prepareApply(options);
  try {
    return await prepared.publish();
  } finally {
    await prepared.close();
  }
}

/** An apply that has read the published registry and planned, before it publishes. */
export interface PreparedApply {
  plan: RegistryPlan;
  /** Publishes (when there is a change) and checks the record won; at most once. */
  publish(): Promise<ApplyResult>;
  close(): Promise<void>;
}

/**
 * Steps 1 to 3 of applyRegistry, keeping the read of the registry open for step 4. Two
 * prepared applies of the same project publish in the order a caller chooses: how the tests
 * race two applies on the same version deterministically.
 */
export async function prepareApply(options: ApplyRegistryOptions): Promise<PreparedApply> {
  const definition = plainDefinition(options.definition);
  new FeatureRegistry(definition);
  const project = definition.project;
  const timeoutMs = options.timeoutMs ?? DEFAULT_REGISTRY_TIMEOUT_MS;
  const topic = registryTopic(project);
  const config = options.topics ?? DEFAULT_TOPIC_CONFIG;
  const admin = options.kafka.admin();
  await admin.connect();
  let createdTopics: string[];
  let warnings: string[];
  try {
    const changelog = await ensureChangelogTopics(admin, project, config);
    const registry = await ensureRegistryTopics(admin, project, { config });
    createdTopics = [...changelog.created, ...registry];
    warnings = changelog.warnings;
  } finally {
    await admin.disconnect();
  }
  const localOutcomes = new Map<string, RecordOutcome>();
  const opened = await openPublishedRegistry({
    kafka: options.kafka,
    project,
    peerRegions: options.peerRegions,
    timeoutMs,
    onOutcome: (outcome) => {
      if (outcome.kind !== "tombstone" && topicOf(outcome) === topic) {
        localOutcomes.set(offsetOf(outcome), outcome);
      }
    },
  });
  try {
    const state = opened.state();
    const current = state.latest;
    const plan = planFrom(current?.record, definition, state.history);
    const incompatible = plan.changes.filter((c) => c.incompatible);
    if (incompatible.length > 0 && !options.allowBreaking) throw breakingChanges(project, plan);
    const base = { plan, topic, createdTopics, warnings };
    return {
      plan,
      close: () => opened.close(),
      publish: async (): Promise<ApplyResult> => {
        if (current && plan.changes.length === 0) {
          return {
            ...base,
            published: false,
            version: current.record.version,
            hash: plan.hash,
            previousHash: current.record.previousHash,
            offset: undefined,
          };
        }
        const record: PublishedRegistry = {
          format: REGISTRY_FORMAT,
          project,
          version: (current?.record.version ?? 0) + 1,
          hash: plan.hash,
          previousHash: current?.record.hash ?? null,
          definition,
          appliedBy: options.appliedBy ?? defaultAppliedBy(),
          appliedAt: new Date().toISOString(),
          region: options.region ?? "local",
          strataVersion: strataVersion(),
          breaking: {
            allowed: options.allowBreaking ?? false,
            changes: incompatible.map((c) => `${c.subject}: ${c.incompatible!.join("; ")}`),
          },
        };
        const offset = await produce(options.kafka, topic, record, timeoutMs);
        await checkPublished(opened, topic, record, offset, localOutcomes, timeoutMs);
        return {
          ...base,
          published: true,
          version: record.version,
          hash: record.hash,
          previousHash: record.previousHash,
          offset,
        };
      },
    };
  } catch (error) {
    await opened.close();
    throw error;
  }
}

function breakingChanges(project: string, plan: RegistryPlan): StrataError {
  const incompatible = plan.changes.filter((c) => c.incompatible);
  return new StrataError(
    "STRATA_E_BREAKING_CHANGE",
    `the apply of project ${project} has ${incompatible.length} incompatible change(s), refused without allowBreaking (--allow-breaking): ${incompatible
      .map((c) => `${c.subject} (${c.incompatible!.join("; ")})`)
      .join("; ")}`,
    {
      project,
      changes: incompatible.map((c) => ({
        action: c.action,
        kind: c.kind,
        subject: c.subject,
        detail: c.detail,
        reasons: c.incompatible,
      })),
    },
  );
}

/** Produces the record with acks=all through an idempotent producer; resolves with its offset. */
async function produce(
  kafka: Kafka,
  topic: string,
  record: PublishedRegistry,
  timeoutMs: number,
): Promise<string> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  try {
    const [metadata] = await producer.send({
      topic,
      acks: -1,
      timeout: timeoutMs,
      messages: [
        { key: registryRecordKey(record), value: encodePublishedRegistry(record), partition: 0 },
      ],
    });
    return metadata!.baseOffset!;
  } catch (error) {
    throw new StrataError(
      "STRATA_E_REGISTRY_UNAVAILABLE",
      `Kafka did not acknowledge registry version ${record.version} of project ${record.project} on ${topic}: ${(error as Error).message}; it may still have been written (plan again to see)`,
      { topic, version: record.version, mayStillBeWritten: true },
      { cause: error },
    );
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

/**
 * Reads the registry up to the published record (and the copies to their ends) and fails with
 * STRATA_E_REGISTRY_CONFLICT when the record lost: the local log accepted an earlier record
 * of its version or a higher one first, or a peer's copy holds a concurrent apply (same version,
 * or planned against the same registry) that wins the order every region computes.
 */
async function checkPublished(
  opened: OpenedRegistry,
  topic: string,
  record: PublishedRegistry,
  offset: string,
  localOutcomes: Map<string, RecordOutcome>,
  timeoutMs: number,
): Promise<void> {
  await opened.reader!.readUpTo(new Map([[topic, BigInt(offset) + 1n]]), timeoutMs);
  await opened.reader!.readToEnd(opened.admin, timeoutMs);
  const outcome = localOutcomes.get(offset);
  if (outcome?.kind === "superseded") throw conflict(record, outcome.by, offset);
  for (const t of opened.state().topics) {
    if (t === topic) continue;
    const other = opened.reader!.logs.latestOf(t);
    if (!other || compareRegistries(other.record, record) <= 0) continue;
    const concurrent =
      other.record.version === record.version || other.record.previousHash === record.previousHash;
    if (concurrent) throw conflict(record, other, offset);
  }
}

function conflict(record: PublishedRegistry, winner: RegistryEntry, offset: string): StrataError {
  const w = winner.record;
  return new StrataError(
    "STRATA_E_REGISTRY_CONFLICT",
    `registry version ${record.version} of project ${record.project} lost to a concurrent apply: version ${w.version} (${w.hash.slice(0, 12)}) applied by ${w.appliedBy} at ${w.appliedAt} in region ${w.region} came first and is the one served; plan again and re-apply`,
    {
      project: record.project,
      version: record.version,
      hash: record.hash,
      offset,
      winner: {
        version: w.version,
        hash: w.hash,
        appliedBy: w.appliedBy,
        appliedAt: w.appliedAt,
        region: w.region,
        topic: winner.topic,
        offset: winner.offset,
      },
    },
  );
}

function topicOf(outcome: Exclude<RecordOutcome, { kind: "tombstone" }>): string {
  return outcome.kind === "refused" ? outcome.topic : outcome.entry.topic;
}

function offsetOf(outcome: Exclude<RecordOutcome, { kind: "tombstone" }>): string {
  return outcome.kind === "refused" ? outcome.offset : outcome.entry.offset;
}

/** STRATA_APPLIED_BY, else `user@host` of this process. */
export function defaultAppliedBy(env: NodeJS.ProcessEnv = process.env): string {
  const named = env.STRATA_APPLIED_BY?.trim();
  if (named) return named;
  let user = env.USER ?? env.USERNAME ?? "unknown";
  try {
    user = os.userInfo().username;
  } catch {
    // A container user without a passwd entry: the environment's name will do.
  }
  return `${user}@${os.hostname()}`;
}

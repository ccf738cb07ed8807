import { randomUUID } from "node:crypto";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { Admin, Kafka } from "kafkajs";
import { changelogSources } from "../changelog/changelog-consumer.js";
import type { ChangelogTopicConfig } from "../changelog/topics.js";
import { StrataError } from "../errors.js";
import type { OnlineStore } from "../online-store/online-store.js";
import { execBatch, type RedisClient } from "../online-store/pipeline.js";
import { batchRejected, validateWrites, type RejectedRow } from "../online-store/write-path.js";
import type { FeatureRegistry } from "../registry/feature-registry.js";
import {
  endOffsets,
  ensureBackfillTopic,
  backfillTopic,
  countRemaining,
  startOffsets,
} from "./backfill-topic.js";
import { refuseAggregationView } from "./aggregation-refusal.js";
import { consumerPassed, deleteGeneration } from "./generation-cleanup.js";
import { BackfillLease } from "./lease.js";
import {
  loadRows,
  produceRows,
  replayIntoGeneration,
  Throttled,
  verifyRows,
  backfillVersion,
} from "./loading.js";
import { ManifestSum } from "./manifest.js";
import { SourceReader, toWriteRow } from "./source.js";
import { recordKey } from "../changelog/record.js";
import {
  ABORTABLE_STAGES,
  FINISHED_STAGES,
  type BackfillSource,
  type BackfillStage,
  type BackfillState,
  type TopicOffsets,
} from "./state.js";
import { BackfillStateStore } from "./state-store.js";

export interface CoordinatorDeps {
  /** The region's store (writes into explicit generations; open it without a hot cache). */
  store: OnlineStore;
  /** The same Redis client the store uses. */
  client: RedisClient;
  kafka: Kafka;
  /** The region this coordinator runs in: its consumer group is the one the proof relies on. */
  region: string;
  /** The peers whose changelog copies the region's consumer applies (STRATA_PEER_REGIONS). */
  peerRegions?: readonly string[];
  topics: ChangelogTopicConfig;
  /** Lease owner token: one per coordinator process (default a random one per instance). */
  token?: string;
  leaseMs?: number;
  now?: () => number;
  maxEventTimeSkewMs?: number;
  /** Registers tables (e.g. the offline store's) on the DuckDB connection before a SQL source runs. */
  prepareSql?: (connection: DuckDBConnection) => Promise<void>;
  /** How long gc and abort wait for the region's consumer to pass the drain offsets per call. */
  drainTimeoutMs?: number;
  onProgress?: (state: BackfillState) => void;
}

export interface StartOptions {
  source: BackfillSource;
  /** How long after the flip gc may delete the old generation (default 10 minutes). */
  graceMs?: number;
}

/** What gc and abort report when the region's consumer has not yet passed the drain offsets. */
export interface StepResult {
  state: BackfillState;
  /** Set when the call could not finish its stage yet; call again. */
  waiting?: string;
}

export const DEFAULT_GRACE_MS = 10 * 60_000;

/**
 * The backfill coordinator of one view major (docs/backfill.md). Stateless between calls: each
 * call takes the view's lease, reads the state from Redis, does its step, writes the state
 * (fenced by the lease) and releases the lease. A crashed call leaves a state the next call
 * resumes from, or that abort cleans up.
 */
export class BackfillCoordinator {
  private readonly token: string;
  private readonly states: BackfillStateStore;
  private readonly registry: FeatureRegistry;
  readonly viewKey: string;

  constructor(
    private readonly deps: CoordinatorDeps,
    viewRef: string,
  ) {
    this.registry = deps.store.registry;
    refuseAggregationView(this.registry, viewRef);
    this.viewKey = this.registry.viewByRef(viewRef).key;
    this.token = deps.token ?? randomUUID();
    this.states = new BackfillStateStore(deps.client, this.registry.project, this.viewKey);
  }

  private get project(): string {
    return this.registry.project;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  status(): Promise<BackfillState | undefined> {
    return this.states.get();
  }

  /**
   * Validates the source (nothing is written if it is refused), then begins the backfill: an
   * epoch, a new generation, the writing generations naming both, and the changelog end offsets
   * captured after that. Does not load: call `advance` (or `run`).
   */
  async start(options: StartOptions): Promise<BackfillState> {
    const manifest =
      options.source.kind === "replay"
        ? { rows: 0, checksum: "0000000000000000" }
        : await this.validate(options.source);
    return this.withLease(async () => {
      const started = new Date(this.now()).toISOString();
      const state = await this.states.begin(
        this.token,
        {
          id: randomUUID(),
          project: this.project,
          view: this.viewKey,
          stage: "started",
          source: options.source,
          region: this.deps.region,
          stampMs: this.now(),
          manifest,
          progress: { produced: 0, replayed: 0, replayTotal: 0, loaded: 0 },
          graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
          timestamps: { started, updated: started },
        },
        FINISHED_STAGES,
      );
      return this.capture(state);
    });
  }

  /** Loads until the stage is `loaded`: produce, replay the changelog, apply the backfill topic. */
  async advance(): Promise<BackfillState> {
    return this.withLease(async () => {
      let state = await this.require(["started", "loading", "loaded"]);
      if (state.stage === "loaded") return state;
      if (state.stage === "started") state = await this.capture(state);
      const save = async (expected: BackfillStage[] = ["loading"]) => {
        await this.states.update(this.token, expected, state);
        this.deps.onProgress?.(state);
      };
      const throttled = new Throttled(() => save());
      // 1. produce the rows to the backfill topic.
      if (state.source.kind !== "replay" && state.loadEnd === undefined) {
        const reader = await SourceReader.open(
          this.registry,
          this.viewKey,
          state.source,
          this.deps.prepareSql,
        );
        try {
          await produceRows(this.deps.kafka, this.registry, reader, state, async (produced) => {
            state.progress.produced = produced;
            await throttled.tick();
          });
        } finally {
          reader.close();
        }
        await throttled.flush();
      }
      if (state.loadEnd === undefined) {
        state.loadEnd = await this.withAdmin((admin) =>
          endOffsets(admin, backfillTopic(this.project)),
        );
        await save();
      }
      // 2. replay the changelog up to the captured offsets.
      state.replayNext ??= {};
      await replayIntoGeneration(
        this.deps.kafka,
        this.deps.store,
        state,
        this.deps.maxEventTimeSkewMs ?? 300_000,
        async (topic, partition, next, records) => {
          (state.replayNext![topic] ??= {})[String(partition)] = next;
          state.progress.replayed += records;
          await throttled.tick();
        },
      );
      await throttled.flush();
      // 3. apply the backfill topic into the new generation.
      state.loadNext ??= { ...state.loadFrom };
      await loadRows(
        this.deps.kafka,
        this.deps.store,
        this.registry,
        state,
        async (partition, next, rows) => {
          state.loadNext![String(partition)] = next;
          state.progress.loaded += rows;
          await throttled.tick();
        },
      );
      await throttled.flush();
      state.stage = "loaded";
      state.timestamps.loaded = new Date(this.now()).toISOString();
      await save(["loading"]);
      return state;
    });
  }

  /**
   * Checks the new generation against the manifest: the backfill topic fully applied, its rows
   * counted once each match the manifest's count and checksum, and every row is in the new
   * generation at its version or a newer one. Stage verified, or STRATA_E_BACKFILL_VERIFY_FAILED.
   */
  async verify(): Promise<BackfillState> {
    return this.withLease(async () => {
      const state = await this.require(["loaded", "verified"]);
      const unapplied =
        countRemaining(state.replayNext ?? {}, state.replayEnd ?? {}) +
        countRemaining({ t: state.loadNext ?? {} }, { t: state.loadEnd ?? {} });
      const findings = await verifyRows(this.deps.kafka, this.registry, state, (keys, field) =>
        this.readField(keys, field),
      );
      state.progress.verified = {
        rows: findings.rows,
        checksum: findings.checksum,
        missing: findings.missing,
        at: new Date(this.now()).toISOString(),
      };
      const ok =
        unapplied === 0 &&
        findings.rows === state.manifest.rows &&
        findings.checksum === state.manifest.checksum &&
        findings.missing === 0;
      if (!ok) {
        state.error = `verify: ${findings.rows} rows (manifest ${state.manifest.rows}), checksum ${findings.checksum} (manifest ${state.manifest.checksum}), ${findings.missing} missing or older, ${unapplied} records not applied`;
        await this.states.update(this.token, ["loaded", "verified"], { ...state, stage: "loaded" });
        throw new StrataError(
          "STRATA_E_BACKFILL_VERIFY_FAILED",
          `the backfill of ${this.viewKey} does not match its manifest: ${state.error}`,
          {
            view: this.viewKey,
            manifest: state.manifest,
            found: { rows: findings.rows, checksum: findings.checksum },
            missing: findings.missing,
            missingSamples: findings.missingSamples,
            unapplied,
          },
        );
      }
      delete state.error;
      state.stage = "verified";
      state.timestamps.verified = new Date(this.now()).toISOString();
      await this.states.update(this.token, ["loaded", "verified"], state);
      return state;
    });
  }

  /**
   * The flip: one Lua call checks the lease and the stage, SETs the generation pointer, marks the
   * view populated and moves the stage to flipped. Readers move through invalidation.
   */
  async flip(): Promise<BackfillState> {
    return this.withLease(async () => {
      const state = await this.require(["verified"]);
      state.stage = "flipped";
      state.timestamps.flipped = new Date(this.now()).toISOString();
      await this.states.update(this.token, ["verified"], state, {
        pointer: state.newGeneration,
        populated: state.newGeneration,
      });
      return state;
    });
  }

  /**
   * Deletes the old generation once the grace period after the flip has passed (or `force`):
   * live records stop going to it, the region's consumer is waited for until no chunk that read
   * the old writing generations can still write, then its fields are deleted everywhere.
   */
  async gc(options: { force?: boolean } = {}): Promise<StepResult> {
    return this.withLease(async () => {
      let state = await this.require(["flipped", "collecting", "collected"]);
      if (state.stage === "collected") return { state };
      if (state.stage === "flipped") {
        const flippedAt = Date.parse(state.timestamps.flipped ?? state.timestamps.updated);
        const due = flippedAt + state.graceMs;
        if (!options.force && this.now() < due) {
          return { state, waiting: `the grace period ends at ${new Date(due).toISOString()}` };
        }
        state.stage = "collecting";
        await this.states.update(this.token, ["flipped"], state, { writing: [] });
      }
      state = await this.drainAndDelete(state, state.oldGeneration, "collecting");
      return state.stage === "collected"
        ? { state }
        : { state, waiting: "the region's consumer to pass the drain offsets" };
    });
  }

  /** Abandons a backfill before its flip: the new generation is deleted, the active one untouched. */
  async abort(): Promise<StepResult> {
    return this.withLease(async () => {
      let state = await this.require([...ABORTABLE_STAGES, "aborted"]);
      if (state.stage === "aborted") return { state };
      if (state.stage !== "aborting") {
        state.stage = "aborting";
        await this.states.update(this.token, ABORTABLE_STAGES, state, { writing: [] });
      }
      state = await this.drainAndDelete(state, state.newGeneration, "aborting");
      return state.stage === "aborted"
        ? { state }
        : { state, waiting: "the region's consumer to pass the drain offsets" };
    });
  }

  /** start (unless begun) -> advance -> verify -> flip, for the Job and the CLI's `run`. */
  async run(options: StartOptions & { flip: boolean }): Promise<BackfillState> {
    let state = await this.status();
    if (!state || FINISHED_STAGES.includes(state.stage)) state = await this.start(options);
    if (["started", "loading"].includes(state.stage)) state = await this.advance();
    if (state.stage === "loaded") state = await this.verify();
    if (options.flip && state.stage === "verified") state = await this.flip();
    return state;
  }

  // --- internals ---

  /** Pass 1 over the source: schema, emptiness, future event times, every row's values; the manifest. */
  private async validate(source: Exclude<BackfillSource, { kind: "replay" }>) {
    const options = { source };
    const reader = await SourceReader.open(
      this.registry,
      this.viewKey,
      source,
      this.deps.prepareSql,
    );
    try {
      const summary = await reader.summary();
      if (summary.rows === 0) {
        throw new StrataError(
          "STRATA_E_BACKFILL_EMPTY",
          `the backfill source of ${this.viewKey} has no rows`,
          { view: this.viewKey, source },
        );
      }
      const nowMs = this.now();
      if (summary.maxEventTsMs !== undefined && summary.maxEventTsMs > nowMs) {
        const future = await reader.futureRows(nowMs);
        throw new StrataError(
          "STRATA_E_EVENT_TIME_IN_FUTURE",
          `${future.count} of ${summary.rows} backfill rows have an event time after now (latest ${new Date(summary.maxEventTsMs).toISOString()}); a backfill corrects history, nothing was written`,
          { view: this.viewKey, rows: future.count, latestMs: summary.maxEventTsMs },
        );
      }
      const sum = new ManifestSum();
      const rejected: RejectedRow[] = [];
      let index = 0;
      const probe = { id: "", stampMs: 0, epoch: 1, region: this.deps.region } as BackfillState;
      for await (const batch of sourceRows(reader, options)) {
        const first = index;
        index += batch.length;
        try {
          const writes = validateWrites(
            this.registry,
            batch.map((r) => toWriteRow(reader.view, r, backfillVersion(probe, r.eventTsMs))),
          );
          for (const w of writes)
            sum.add(recordKey(w.view.key, w.encodedKey), w.version.eventTsMs, w.values);
        } catch (error) {
          if (!(error instanceof StrataError) || error.code !== "STRATA_E_BATCH_REJECTED")
            throw error;
          for (const r of (error.details.rejected as RejectedRow[]).slice(
            0,
            Math.max(0, 20 - rejected.length),
          ))
            rejected.push({ ...r, index: first + r.index });
          if (rejected.length === 0)
            rejected.push({ index: first, code: error.code, message: error.message });
        }
      }
      if (rejected.length > 0) throw batchRejected(rejected, index);
      return sum.manifest();
    } finally {
      reader.close();
    }
  }

  /**
   * After the writing generations name the new one: capture the end offsets of every changelog
   * topic the region's consumer reads (replay up to them) and of the backfill topic (load from
   * them). A record at or past them is fetched after the change, so its chunk dual-writes it.
   */
  private async capture(state: BackfillState): Promise<BackfillState> {
    const topics = changelogSources(this.project, this.deps.region, this.deps.peerRegions).map(
      (s) => s.topic,
    );
    await this.withAdmin(async (admin) => {
      const existing = new Set(await admin.listTopics());
      const replayEnd: TopicOffsets = {};
      const replayNext: TopicOffsets = {};
      for (const topic of topics.filter((t) => existing.has(t))) {
        replayEnd[topic] = await endOffsets(admin, topic);
        replayNext[topic] = await startOffsets(admin, topic);
      }
      state.replayEnd = replayEnd;
      state.replayNext = replayNext;
      state.progress.replayTotal = countRemaining(replayNext, replayEnd);
      await ensureBackfillTopic(admin, this.project, this.deps.topics);
      state.loadFrom = await endOffsets(admin, backfillTopic(this.project));
    });
    state.stage = "loading";
    state.timestamps.loading = new Date(this.now()).toISOString();
    await this.states.update(this.token, ["started"], state);
    return state;
  }

  private async drainAndDelete(
    state: BackfillState,
    generation: number,
    stage: "collecting" | "aborting",
  ): Promise<BackfillState> {
    if (!state.drainEnd) {
      const topics = changelogSources(this.project, state.region, this.deps.peerRegions).map(
        (s) => s.topic,
      );
      state.drainEnd = await this.withAdmin(async (admin) => {
        const existing = new Set(await admin.listTopics());
        const end: TopicOffsets = {};
        for (const topic of topics.filter((t) => existing.has(t)))
          end[topic] = await endOffsets(admin, topic);
        return end;
      });
      await this.states.update(this.token, [stage], state);
    }
    const deadline = this.now() + (this.deps.drainTimeoutMs ?? 30_000);
    for (;;) {
      const passed = await this.withAdmin((admin) =>
        consumerPassed(admin, this.project, state.region, state.drainEnd!),
      );
      if (passed) break;
      if (this.now() > deadline) return state;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await deleteGeneration(
      this.deps.client,
      this.project,
      this.registry.viewByRef(this.viewKey),
      generation,
    );
    state.stage = stage === "collecting" ? "collected" : "aborted";
    state.timestamps[state.stage] = new Date(this.now()).toISOString();
    await this.states.update(this.token, [stage], state);
    return state;
  }

  private async require(stages: readonly BackfillStage[]): Promise<BackfillState> {
    const state = await this.states.get();
    if (!state) {
      throw new StrataError(
        "STRATA_E_BACKFILL_NOT_FOUND",
        `no backfill of ${this.viewKey} has been started`,
        { view: this.viewKey },
      );
    }
    if (!stages.includes(state.stage)) {
      throw new StrataError(
        "STRATA_E_BACKFILL_STAGE",
        `the backfill of ${this.viewKey} is in stage ${state.stage}, not ${stages.join(" or ")}`,
        {
          view: this.viewKey,
          stage: state.stage,
          expected: stages,
        },
      );
    }
    return state;
  }

  private async withLease<T>(work: () => Promise<T>): Promise<T> {
    const lease = await BackfillLease.acquire(this.deps.client, this.project, this.viewKey, {
      token: this.token,
      ttlMs: this.deps.leaseMs,
    });
    try {
      return await work();
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  private async withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = this.deps.kafka.admin();
    await admin.connect();
    try {
      return await work(admin);
    } finally {
      await admin.disconnect();
    }
  }

  private async readField(keys: string[], field: string): Promise<(string | null)[]> {
    const replies = await execBatch(
      this.deps.client,
      keys.map((key) => ({ key, argv: ["hget", key, field] })),
    );
    return replies.map(([error, value]) => {
      if (error) throw error;
      return value as string | null;
    });
  }
}

/** The source's rows, a failure of DuckDB to read or convert one reported as the source's. */
async function* sourceRows(reader: SourceReader, context: { source: BackfillSource }) {
  try {
    yield* reader.rows();
  } catch (error) {
    if (error instanceof StrataError) throw error;
    throw new StrataError(
      "STRATA_E_BACKFILL_SOURCE",
      `the backfill source cannot be read: ${error instanceof Error ? error.message : String(error)}`,
      context,
      { cause: error },
    );
  }
}

/**
 * A backfill's state, kept as JSON in `fs:{<project>}:backfill:state:<view>@<major>`
 * (docs/backfill.md, "State"). Every change goes through lua/backfill-state.lua, fenced by the
 * coordinator's lease, so the coordinator holds nothing between calls.
 */
export type BackfillStage =
  | "started"
  | "loading"
  | "loaded"
  | "verified"
  | "flipped"
  | "collecting"
  | "collected"
  | "aborting"
  | "aborted";

/** Stages a new backfill of the same view may begin from (or no state at all). */
export const FINISHED_STAGES: readonly BackfillStage[] = ["collected", "aborted"];
/** Stages abort may begin from: anything before the flip. */
export const ABORTABLE_STAGES: readonly BackfillStage[] = [
  "started",
  "loading",
  "loaded",
  "verified",
  "aborting",
];

/** Where the rows come from. */
export type BackfillSource =
  | { kind: "file"; path: string }
  | { kind: "sql"; sql: string }
  /** No rows: the new generation is the replayed changelog alone (prewarm of a new major). */
  | { kind: "replay" };

/** What the producer validated: the row count and an order-independent checksum. */
export interface Manifest {
  rows: number;
  /** 16 hex digits: two 32-bit sums of a hash of each row (shared/backfill/manifest.ts). */
  checksum: string;
}

/** Offsets per partition (decimal strings), per topic. */
export type TopicOffsets = Record<string, Record<string, string>>;

export interface BackfillState {
  id: string;
  project: string;
  /** `view@major`. */
  view: string;
  epoch: number;
  newGeneration: number;
  oldGeneration: number;
  stage: BackfillStage;
  source: BackfillSource;
  /** The region whose consumer the proof relies on (and whose group the drain waits for). */
  region: string;
  /** HLC wall ms stamped on every backfill row (with counter 0): the rows' versions are stable. */
  stampMs: number;
  manifest: Manifest;
  /**
   * The changelog topics' end offsets captured after the writing generations named the new
   * one: the replay copies everything before them into the new generation.
   */
  replayEnd?: TopicOffsets;
  /** The replay's next offset per topic and partition. */
  replayNext?: TopicOffsets;
  /** The backfill topic's end offsets before the first row was produced. */
  loadFrom?: Record<string, string>;
  /** The backfill topic's end offsets once every row was produced. */
  loadEnd?: Record<string, string>;
  /** The loader's next offset per partition of the backfill topic. */
  loadNext?: Record<string, string>;
  progress: {
    produced: number;
    replayed: number;
    replayTotal: number;
    loaded: number;
    verified?: { rows: number; checksum: string; missing: number; at: string };
  };
  /** The changelog offsets a drain (gc, abort) waits for the region's consumer to commit. */
  drainEnd?: TopicOffsets;
  /** How long after the flip gc may delete the old generation (ms). */
  graceMs: number;
  timestamps: Partial<Record<BackfillStage, string>> & { updated: string };
  error?: string;
}

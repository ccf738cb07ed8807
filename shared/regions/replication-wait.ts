import { Generations } from "../online-store/generations.js";
import { readVersions } from "../reconcile/stored-rows.js";
import type { ResolvedView } from "../registry/feature-registry.js";
import { compareVersions, decodeVersion, type Version } from "../versions/version.js";
import type { PeerRegion, ReplicationPlan } from "./peer-regions.js";

/** One row a writer wrote: its view major, its Redis key and its version's text. */
export interface WrittenRow {
  view: ResolvedView;
  redisKey: string;
  encodedVersion: string;
}

/** What one peer region held when the wait ended. */
export interface PeerReplication {
  /** Every row is applied there: it stores the row's version or a newer one. */
  applied: boolean;
  /** Rows found applied so far. */
  rows: number;
  /**
   * Of those, rows that held a NEWER version than the one written: the region had already
   * moved past this write (a later write won there, as it will everywhere).
   */
  superseded: number;
  /** The last read error, while the peer did not answer (it counts as "not applied"). */
  error?: string;
}

/** The outcome of a replication wait, per peer region. */
export interface ReplicationReport {
  /** At least `quorum` of the regions waited for applied every row. */
  reached: boolean;
  quorum: number;
  waitedMs: number;
  regions: Record<string, PeerReplication>;
}

/**
 * Polls between reads, doubling up to a ceiling: a write that replicates quickly is seen
 * quickly, and one that waits on a slow link costs each peer a read per ceiling at most.
 */
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;

/**
 * Waits until `plan.quorum` of `plan.peers` hold every written row at its version or a newer
 * one in the total version order, or until `plan.timeoutMs`. Each peer's Redis is only read:
 * its active generation of each view (as its readers see it), then the stored version of each
 * written key, pipelined. A peer that does not answer counts as "not applied" and is asked
 * again after the backoff; a read still in flight at the deadline is not waited for.
 */
export async function waitForReplication(
  project: string,
  rows: readonly WrittenRow[],
  plan: ReplicationPlan,
): Promise<ReplicationReport> {
  const started = performance.now();
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), plan.timeoutMs);
  let appliedPeers = 0;
  const onApplied = () => {
    // The quorum is met: the other peers need not be waited for.
    if (++appliedPeers >= plan.quorum) stop.abort();
  };
  try {
    const outcomes = await Promise.all(
      plan.peers.map((peer) => watchPeer(peer, project, rows, stop.signal, onApplied)),
    );
    return {
      reached: appliedPeers >= plan.quorum,
      quorum: plan.quorum,
      waitedMs: Math.round(performance.now() - started),
      regions: Object.fromEntries(plan.peers.map((peer, i) => [peer.name, outcomes[i]!])),
    };
  } finally {
    clearTimeout(timer);
  }
}

async function watchPeer(
  peer: PeerRegion,
  project: string,
  rows: readonly WrittenRow[],
  stop: AbortSignal,
  onApplied: () => void,
): Promise<PeerReplication> {
  const outcome: PeerReplication = { applied: false, rows: 0, superseded: 0 };
  // Uncached: a backfill's pointer flip there must be seen by the next poll.
  const generations = new Generations(peer.client, project, undefined, Date.now);
  let pending = rows.map((row) => ({ row, version: decodeVersion(row.encodedVersion) }));
  let pauseMs = FIRST_POLL_MS;
  while (!stop.aborted) {
    try {
      const stored = await unlessStopped(readStored(peer, generations, pending), stop);
      if (stored === undefined) break;
      const still: typeof pending = [];
      pending.forEach((entry, i) => {
        const order = compareStored(stored[i] ?? null, entry.version);
        if (order < 0) {
          still.push(entry);
        } else {
          outcome.rows++;
          if (order > 0) outcome.superseded++;
        }
      });
      pending = still;
      delete outcome.error;
      if (pending.length === 0) {
        outcome.applied = true;
        onApplied();
        break;
      }
    } catch (error) {
      outcome.error = error instanceof Error ? error.message : String(error);
    }
    await pause(pauseMs, stop);
    pauseMs = Math.min(pauseMs * 2, MAX_POLL_MS);
  }
  return outcome;
}

/** The stored version text of each pending row in the peer's active generation of its view. */
async function readStored(
  peer: PeerRegion,
  generations: Generations,
  pending: readonly { row: WrittenRow }[],
): Promise<(string | null)[]> {
  const byView = new Map<ResolvedView, number[]>();
  pending.forEach(({ row }, i) => {
    let indexes = byView.get(row.view);
    if (!indexes) byView.set(row.view, (indexes = []));
    indexes.push(i);
  });
  const active = await generations.fetch([...byView.keys()].map((view) => view.key));
  const stored = new Array<string | null>(pending.length).fill(null);
  await Promise.all(
    [...byView].map(async ([view, indexes]) => {
      const keys = indexes.map((i) => pending[i]!.row.redisKey);
      const versions = await readVersions(peer.client, view, active.get(view.key)!, keys);
      indexes.forEach((i, n) => (stored[i] = versions[n] ?? null));
    }),
  );
  return stored;
}

/**
 * Where a stored version stands against the written one: below 0 not applied (none, or an
 * older one), 0 applied, above 0 superseded by a newer write.
 */
export function compareStored(stored: string | null, written: Version): number {
  // A corrupt stored version decodes to NaNs, which compare as equal: it is not our write.
  if (stored === null || !ENCODED_VERSION.test(stored)) return -1;
  return compareVersions(decodeVersion(stored), written);
}

/** encodeVersion's form: 36 hex digits, then the origin region. */
const ENCODED_VERSION = /^[0-9a-f]{36}[a-z0-9][a-z0-9-]*$/;

/** The work's result, or undefined as soon as `stop` fires (the work is left to finish alone). */
function unlessStopped<T>(work: Promise<T>, stop: AbortSignal): Promise<T | undefined> {
  if (stop.aborted) {
    work.catch(() => undefined);
    return Promise.resolve(undefined);
  }
  return new Promise<T | undefined>((resolve, reject) => {
    const onStop = () => resolve(undefined);
    stop.addEventListener("abort", onStop, { once: true });
    work.then(resolve, reject).finally(() => stop.removeEventListener("abort", onStop));
  });
}

function pause(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stop.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stop.removeEventListener("abort", done);
      resolve();
    }
    stop.addEventListener("abort", done, { once: true });
  });
}

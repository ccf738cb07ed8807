import { show, StrataError } from "../errors.js";
import type { RedisClient } from "../online-store/pipeline.js";
import { isValidRegion } from "../versions/version.js";

/**
 * Another region's Redis, named as the region is (its versions' `origin_region`). A writer
 * only reads it, to learn whether that region applied a write; it never writes there.
 */
export interface PeerRegion {
  name: string;
  client: RedisClient;
}

/** What a `wait: "replicated"` call may ask for (ChangelogWriter.write's `replication`). */
export interface ReplicationOptions {
  /** The peer regions to wait for; default every peer the writer has. */
  regions?: readonly string[];
  /** How many of `regions` must have applied every row; default all of them. */
  quorum?: number;
  /** This call's deadline for the peers, from when it applied locally; default the writer's. */
  timeoutMs?: number;
}

/** A checked `replication` request: which peers, how many of them, until when. */
export interface ReplicationPlan {
  peers: PeerRegion[];
  quorum: number;
  timeoutMs: number;
}

/** Refuses a peer list a writer cannot wait on: a bad or repeated name, or its own region. */
export function checkPeers(peers: readonly PeerRegion[], ownRegion?: string): void {
  const names = new Set<string>();
  for (const peer of peers) {
    if (!isValidRegion(peer.name) || names.has(peer.name) || peer.name === ownRegion) {
      throw new StrataError(
        "STRATA_E_BAD_CONFIG",
        `peer region ${show(peer.name)} is not a region name (a-z, 0-9, '-'), is repeated, or is this region`,
        { peer: peer.name, ownRegion },
      );
    }
    names.add(peer.name);
  }
}

/**
 * Checks a call's replication options against the writer's peers and limits, before anything
 * is written. A writer without peers refuses the wait (STRATA_E_NO_PEERS) rather than answer
 * as if "applied" were "replicated": a single-region deployment, or a missing STRATA_PEER_REDIS,
 * must not pass for a write that is safe from the loss of its region.
 */
export function planReplication(
  peers: readonly PeerRegion[],
  options: ReplicationOptions | undefined,
  limits: { timeoutMs: number; maxTimeoutMs: number },
): ReplicationPlan {
  if (peers.length === 0) {
    throw new StrataError(
      "STRATA_E_NO_PEERS",
      'wait "replicated" needs peer regions, and this writer has none (STRATA_PEER_REDIS is not set): use "applied" in a single region',
      {},
    );
  }
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw bad(`replication must be an object with regions, quorum or timeoutMs`, {
      replication: options,
    });
  }
  for (const key of Object.keys(options ?? {})) {
    if (!OPTION_KEYS.has(key)) {
      throw bad(`replication has no option ${show(key)} (regions, quorum, timeoutMs)`, { key });
    }
  }
  const known = peers.map((peer) => peer.name);
  const chosen = pickPeers(peers, options?.regions, known);
  const quorum = options?.quorum ?? chosen.length;
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > chosen.length) {
    throw bad(
      `replication.quorum is ${show(quorum)}; it must be an integer from 1 to ${chosen.length} (the peer regions waited for)`,
      { quorum, regions: chosen.map((p) => p.name) },
    );
  }
  const timeoutMs = options?.timeoutMs ?? Math.min(limits.timeoutMs, limits.maxTimeoutMs);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > limits.maxTimeoutMs) {
    throw bad(
      `replication.timeoutMs is ${show(timeoutMs)}; it must be an integer from 1 to ${limits.maxTimeoutMs}`,
      { timeoutMs, max: limits.maxTimeoutMs },
    );
  }
  return { peers: chosen, quorum, timeoutMs };
}

const OPTION_KEYS = new Set(["regions", "quorum", "timeoutMs"]);

function pickPeers(peers: readonly PeerRegion[], regions: unknown, known: string[]): PeerRegion[] {
  if (regions === undefined) return [...peers];
  if (!Array.isArray(regions) || regions.length === 0) {
    throw bad(
      `replication.regions must be a non-empty list of peer region names (${known.join(", ")})`,
      {
        regions,
        known,
      },
    );
  }
  const chosen: PeerRegion[] = [];
  for (const name of regions as unknown[]) {
    const peer = peers.find((p) => p.name === name);
    if (!peer) {
      throw bad(
        `replication.regions names ${show(name)}, which is not a peer region of this writer (${known.join(", ")})`,
        { region: name, known },
      );
    }
    if (chosen.includes(peer)) {
      throw bad(`replication.regions names ${peer.name} twice`, { region: peer.name });
    }
    chosen.push(peer);
  }
  return chosen;
}

function bad(message: string, details: Record<string, unknown>): StrataError {
  return new StrataError("STRATA_E_BAD_REQUEST", message, details);
}

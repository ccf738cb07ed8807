import calculateSlot from "cluster-key-slot";
import type { EncodedRecord } from "../changelog/record.js";
import { isStrataError } from "../errors.js";
import type { FeatureRegistry, ResolvedView } from "../registry/feature-registry.js";
import { compareVersions, decodeVersion } from "../versions/version.js";
import type { ChangelogLatest } from "./changelog-latest.js";
import { drillDown } from "./drill-down.js";
import type { ChangelogPublisher } from "./publisher.js";
import { RegionDigest, type Region } from "./region-digest.js";
import { SlotDigests } from "./slot-digest.js";
import { readRows, readVersions } from "./stored-rows.js";
import { verifyConverged } from "./verify.js";
import { pickWinner, winnerRecord } from "./winner-record.js";

export interface ReconcileOptions {
  registry: FeatureRegistry;
  /** Two or more regions; the first is the reference every other is compared with. */
  regions: readonly Region[];
  /**
   * Opens the changelog to re-publish winners into (the local region's): called only when
   * there is something to re-publish, so a converged run never needs Kafka.
   */
  publisher: () => Promise<ChangelogPublisher>;
  /** The view majors to compare; every registered one when absent. */
  views?: readonly ResolvedView[];
  /** Find and report divergence, re-publish nothing. */
  dryRun?: boolean;
  /**
   * The compaction gap check: the last record per key of the changelog (readChangelogLatest).
   * Wherever it is older than the regions' winner (or missing), the winner is re-published.
   */
  changelogLatest?: () => Promise<ChangelogLatest>;
  /** After re-publishing, wait up to this long for every region to store each winner. */
  verifyTimeoutMs?: number;
  onProgress?: (progress: ReconcileProgress) => void;
  /** Winners with an event time beyond now plus this are not re-published (consumers refuse them). */
  maxEventTimeSkewMs?: number;
  /** How many repaired and unrepaired keys the report lists (default 100). */
  sampleLimit?: number;
}

export type ReconcileProgress =
  | { phase: "digest"; region: string; keysScanned: number }
  | { phase: "changelog"; records: number; total: number }
  | { phase: "repair"; keys: number };

/** One key re-published (or, in a dry run, to be). */
export interface RepairedKey {
  view: string;
  key: string;
  /** The winning version's text, and the region it was read from. */
  version: string;
  from: string;
  /** The regions whose version differed from the winner (no row: "none"). */
  stale: Record<string, string>;
  reason: "divergent" | "changelog-shadowed";
}

export interface UnrepairedKey {
  view: string;
  key: string;
  reason: string;
}

export interface ViewReport {
  view: string;
  /** Rows of the view per region. */
  rows: Record<string, number>;
  rangesCompared: number;
  slotsDiffering: number;
  divergentKeys: number;
}

export interface ReconcileReport {
  regions: string[];
  views: ViewReport[];
  /** Rows compared: the largest row count of any region, over every view. */
  keysCompared: number;
  elapsedMs: number;
  keysPerSecond: number;
  /** Keys whose stored versions differ between regions. */
  divergent: number;
  /** Keys whose winner the changelog's last record did not carry (--check-changelog). */
  changelogShadowed: number;
  /** Keys whose log record is newer than every region's row: regions still applying the log. */
  behindChangelog: number;
  /** Winners acknowledged by Kafka (0 in a dry run). */
  republished: number;
  repaired: RepairedKey[];
  unrepaired: UnrepairedKey[];
  unrepairedCount: number;
  /** With verifyTimeoutMs: keys every region stores at the winner's version (or newer) in time. */
  verified?: { converged: number; unconverged: number };
  changelog?: { records: number; undecodable: number };
  /** converged: nothing to do; repaired: every divergence re-published; unrepaired: exit 1. */
  outcome: "converged" | "repaired" | "unrepaired";
  dryRun: boolean;
}

/** A key to repair: the view, the Redis key, and why. */
interface Candidate {
  view: ResolvedView;
  key: string;
  reason: RepairedKey["reason"];
}

/**
 * Anti-entropy between regions (docs/changelog.md, "Reconciliation"). Each region digests its
 * rows per view and hash slot (RegionDigest); the digests are compared range by range, and only
 * slots that differ are compared key by key. Each divergent key is repaired by re-publishing its
 * stored winner, the highest version any region holds, into the changelog with its own version,
 * clock and values: every region's consumer applies it with the same CAS as any write, so the
 * regions converge on it and none regresses. No region's Redis is ever written from another's.
 */
export async function reconcileRegions(options: ReconcileOptions): Promise<ReconcileReport> {
  const started = performance.now();
  const { registry, regions } = options;
  if (regions.length < 2) throw new Error("reconcile needs at least two regions");
  const views = options.views ?? registry.views();
  const digests = await Promise.all(
    regions.map((region) =>
      RegionDigest.compute(region, registry, views, (keysScanned) =>
        options.onProgress?.({ phase: "digest", region: region.name, keysScanned }),
      ),
    ),
  );
  const viewReports: ViewReport[] = [];
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  for (const view of views) {
    const { report, divergent } = await compareView(view, digests);
    viewReports.push(report);
    for (const key of divergent) {
      candidates.push({ view, key, reason: "divergent" });
      seen.add(`${view.key}\n${key}`);
    }
  }
  const divergent = candidates.length;
  let changelog: ReconcileReport["changelog"];
  let behindChangelog = 0;
  if (options.changelogLatest) {
    const latest = await options.changelogLatest();
    changelog = { records: latest.records, undecodable: latest.undecodable };
    for (const view of views) {
      const found = await shadowedKeys(view, digests, latest.byView.get(view.key) ?? new Map());
      behindChangelog += found.behind;
      for (const key of found.shadowed) {
        if (!seen.has(`${view.key}\n${key}`))
          candidates.push({ view, key, reason: "changelog-shadowed" });
      }
    }
  }
  const keysCompared = Math.max(
    ...digests.map((d) => views.reduce((n, view) => n + d.of(view.key).total(), 0)),
  );
  const compareMs = performance.now() - started;

  const repair = await repairKeys(options, digests, candidates);
  const report: ReconcileReport = {
    regions: regions.map((r) => r.name),
    views: viewReports,
    keysCompared,
    elapsedMs: Math.round(performance.now() - started),
    // The comparison's own rate: repairs and verification wait on Kafka and consumers.
    keysPerSecond: Math.round(keysCompared / Math.max(compareMs / 1000, 1e-3)),
    divergent,
    changelogShadowed: candidates.length - divergent,
    behindChangelog,
    republished: repair.republished,
    repaired: repair.repaired.slice(0, options.sampleLimit ?? 100),
    unrepaired: repair.unrepaired.slice(0, options.sampleLimit ?? 100),
    unrepairedCount: repair.unrepaired.length,
    changelog,
    dryRun: options.dryRun ?? false,
    outcome: "converged",
  };
  if (options.verifyTimeoutMs && repair.republished > 0) {
    report.verified = await verifyConverged(digests, repair.published, options.verifyTimeoutMs);
  }
  const failed =
    report.unrepairedCount > 0 ||
    (report.dryRun && candidates.length > 0) ||
    (report.verified?.unconverged ?? 0) > 0;
  report.outcome = failed ? "unrepaired" : candidates.length > 0 ? "repaired" : "converged";
  return report;
}

/** Drills into the slots where any region's digest differs from the first's, then compares keys there. */
async function compareView(
  view: ResolvedView,
  digests: readonly RegionDigest[],
): Promise<{ report: ViewReport; divergent: string[] }> {
  const reference = digests[0]!.of(view.key);
  const slots = new Set<number>();
  let rangesCompared = 0;
  for (const other of digests.slice(1)) {
    const table = other.of(view.key);
    const result = drillDown(
      (from, to) => reference.range(from, to),
      (from, to) => table.range(from, to),
    );
    rangesCompared += result.rangesCompared;
    for (const slot of result.slots) slots.add(slot);
  }
  const divergent: string[] = [];
  if (slots.size > 0) {
    const keys = unionKeys(digests.map((d) => d.keysInSlots(view.entitySet, slots)));
    const versions = await versionsIn(digests, view, keys);
    keys.forEach((key, i) => {
      const first = versions[0]![i];
      if (versions.some((perRegion) => perRegion[i] !== first)) divergent.push(key);
    });
  }
  const rows: Record<string, number> = {};
  for (const d of digests) rows[d.region.name] = d.of(view.key).total();
  return {
    report: {
      view: view.key,
      rows,
      rangesCompared,
      slotsDiffering: slots.size,
      divergentKeys: divergent.length,
    },
    divergent,
  };
}

/**
 * The compaction gap: keys whose last changelog record is older than the regions' winner, or
 * that the log lacks. Found like divergence: the log's own digest against the first region's,
 * keys only in the slots that differ.
 */
async function shadowedKeys(
  view: ResolvedView,
  digests: readonly RegionDigest[],
  logVersions: ReadonlyMap<string, string>,
): Promise<{ shadowed: string[]; behind: number }> {
  const logTable = new SlotDigests();
  for (const [key, version] of logVersions) logTable.add(calculateSlot(key), key, version);
  const reference = digests[0]!.of(view.key);
  const { slots } = drillDown(
    (from, to) => reference.range(from, to),
    (from, to) => logTable.range(from, to),
  );
  if (slots.length === 0) return { shadowed: [], behind: 0 };
  const slotSet = new Set(slots);
  const logKeys = [...logVersions.keys()].filter((key) => slotSet.has(calculateSlot(key)));
  const keys = unionKeys([...digests.map((d) => d.keysInSlots(view.entitySet, slotSet)), logKeys]);
  const versions = await versionsIn(digests, view, keys);
  const shadowed: string[] = [];
  let behind = 0;
  keys.forEach((key, i) => {
    const winner = highest(versions.map((perRegion) => perRegion[i] ?? null));
    const logged = logVersions.get(key);
    if (winner === null) {
      if (logged !== undefined) behind++;
      return;
    }
    const order =
      logged === undefined ? 1 : compareVersions(decodeVersion(winner), decodeVersion(logged));
    if (order > 0) shadowed.push(key);
    else if (order < 0) behind++;
  });
  return { shadowed, behind };
}

/** Reads the winners of the candidates, re-publishes them, and says what could not be. */
async function repairKeys(
  options: ReconcileOptions,
  digests: readonly RegionDigest[],
  candidates: readonly Candidate[],
): Promise<{
  republished: number;
  repaired: RepairedKey[];
  unrepaired: UnrepairedKey[];
  published: { view: ResolvedView; key: string; version: string }[];
}> {
  const repaired: RepairedKey[] = [];
  const unrepaired: UnrepairedKey[] = [];
  const records: EncodedRecord[] = [];
  const published: { view: ResolvedView; key: string; version: string }[] = [];
  const byView = new Map<ResolvedView, Candidate[]>();
  for (const c of candidates) {
    const list = byView.get(c.view) ?? [];
    list.push(c);
    byView.set(c.view, list);
  }
  for (const [view, list] of byView) {
    const keys = list.map((c) => c.key);
    const rows = await Promise.all(
      digests.map((d) => readRows(d.region.client, view, d.generations.get(view.key)!, keys)),
    );
    list.forEach((candidate, i) => {
      const perRegion = rows.map((regionRows) => regionRows[i]);
      const winner = pickWinner(perRegion);
      if (!winner) return; // every row is gone since the comparison: nothing to repair
      try {
        records.push(
          winnerRecord(
            options.registry,
            view,
            candidate.key,
            winner.row,
            options.maxEventTimeSkewMs,
          ),
        );
      } catch (error) {
        if (!isStrataError(error)) throw error;
        unrepaired.push({ view: view.key, key: candidate.key, reason: error.message });
        return;
      }
      const stale: Record<string, string> = {};
      perRegion.forEach((row, r) => {
        if (row?.version !== winner.row.version)
          stale[digests[r]!.region.name] = row?.version ?? "none";
      });
      repaired.push({
        view: view.key,
        key: candidate.key,
        version: winner.row.version,
        from: digests[winner.index]!.region.name,
        stale,
        reason: candidate.reason,
      });
      published.push({ view, key: candidate.key, version: winner.row.version });
    });
    options.onProgress?.({ phase: "repair", keys: records.length });
  }
  if (records.length === 0 || options.dryRun) {
    return { republished: 0, repaired, unrepaired, published: [] };
  }
  try {
    const publisher = await options.publisher();
    try {
      await publisher.publish(records);
    } finally {
      await publisher.close().catch(() => undefined);
    }
  } catch (error) {
    const reason = `the changelog did not acknowledge the re-published winner: ${error instanceof Error ? error.message : String(error)}`;
    for (const r of repaired) unrepaired.push({ view: r.view, key: r.key, reason });
    return { republished: 0, repaired: [], unrepaired, published: [] };
  }
  return { republished: records.length, repaired, unrepaired, published };
}

async function versionsIn(
  digests: readonly RegionDigest[],
  view: ResolvedView,
  keys: readonly string[],
): Promise<(string | null)[][]> {
  return Promise.all(
    digests.map((d) => readVersions(d.region.client, view, d.generations.get(view.key)!, keys)),
  );
}

function unionKeys(lists: readonly (readonly string[])[]): string[] {
  return [...new Set(lists.flat())].sort();
}

function highest(versions: readonly (string | null)[]): string | null {
  let best: string | null = null;
  for (const v of versions) {
    if (v !== null && (best === null || compareVersions(decodeVersion(v), decodeVersion(best)) > 0))
      best = v;
  }
  return best;
}

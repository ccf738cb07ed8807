import { sameDigest, SLOT_COUNT, type RangeDigest } from "./slot-digest.js";

/** What the drill-down asks of each side: the digest of a range of slots. */
export type RangeSource = (from: number, to: number) => RangeDigest;

export interface DrillDownResult {
  /** Single slots whose digests differ, ascending: where key-level comparison must look. */
  slots: number[];
  /** Range digests compared, on each side (what a remote comparison would exchange). */
  rangesCompared: number;
}

/**
 * Compares two sides range by range: the whole slot space split into `fanout` ranges, each
 * differing range split again into `fanout`, down to single slots. Equal ranges are never
 * looked into, so a handful of divergent keys costs a few dozen range digests per level, not
 * one per slot.
 */
export function drillDown(left: RangeSource, right: RangeSource, fanout = 16): DrillDownResult {
  const slots: number[] = [];
  let rangesCompared = 0;
  const visit = (from: number, to: number): void => {
    rangesCompared++;
    if (sameDigest(left(from, to), right(from, to))) return;
    if (to - from === 1) {
      slots.push(from);
      return;
    }
    const step = Math.max(1, Math.ceil((to - from) / fanout));
    for (let start = from; start < to; start += step) visit(start, Math.min(to, start + step));
  };
  visit(0, SLOT_COUNT);
  return { slots, rangesCompared };
}

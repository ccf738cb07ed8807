import { compareHlc, decodeHlc, encodeHlc, type Hlc } from "./hlc.js";

/**
 * Per-origin-region clocks: the highest HLC seen from each region. A write carries the
 * vector its writer had seen; the stored row keeps the pointwise maximum of all writes
 * it was offered. A write neither before nor after the stored vector is a concurrent
 * cross-region write: still ordered by its Version, but counted so operators see conflicts.
 */
export type ClockVector = Record<string, Hlc>;

export type ClockRelation = "equal" | "before" | "after" | "concurrent";

/** "region:hlc,region:hlc", sorted by region: the form the Lua script parses and writes. */
export function encodeClockVector(clock: ClockVector): string {
  return Object.keys(clock)
    .sort()
    .map((region) => `${region}:${encodeHlc(clock[region]!)}`)
    .join(",");
}

export function decodeClockVector(text: string): ClockVector {
  const clock: ClockVector = {};
  if (text === "") return clock;
  for (const part of text.split(",")) {
    const colon = part.indexOf(":");
    clock[part.slice(0, colon)] = decodeHlc(part.slice(colon + 1));
  }
  return clock;
}

/** Where `incoming` stands relative to `stored`; a region missing from one side counts as zero. */
export function relateClocks(incoming: ClockVector, stored: ClockVector): ClockRelation {
  let incomingAhead = false;
  let storedAhead = false;
  for (const region of new Set([...Object.keys(incoming), ...Object.keys(stored)])) {
    const a = incoming[region];
    const b = stored[region];
    const order = a && b ? compareHlc(a, b) : a ? 1 : -1;
    if (order > 0) incomingAhead = true;
    if (order < 0) storedAhead = true;
  }
  if (incomingAhead && storedAhead) return "concurrent";
  if (incomingAhead) return "after";
  if (storedAhead) return "before";
  return "equal";
}

export function mergeClocks(a: ClockVector, b: ClockVector): ClockVector {
  const merged: ClockVector = { ...a };
  for (const [region, hlc] of Object.entries(b)) {
    const current = merged[region];
    if (!current || compareHlc(hlc, current) > 0) merged[region] = hlc;
  }
  return merged;
}

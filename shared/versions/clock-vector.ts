import { compareHlc, decodeHlc, encodeHlc, type Hlc } from "./hlc.js";

/**
 * Per-origin-region clocks: the highest HLC seen from each region. A write carries the
 * vector its writer had seen, its own region's entry being its own HLC; the stored row keeps
 * its winner's vector. A write is concurrent with the stored winner when neither knew of the
 * other (`knewOf`): still ordered by its Version, but counted so operators see conflicts.
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

/**
 * Whether a write whose clock vector is `clock` knew of the write `other` (its origin region
 * and HLC): the vector holds at least that HLC for that region.
 */
export function knewOf(clock: ClockVector, other: { originRegion: string; hlc: Hlc }): boolean {
  const seen = clock[other.originRegion];
  return seen !== undefined && compareHlc(seen, other.hlc) >= 0;
}

/**
 * Neither write knew of the other: how the CAS script defines a concurrent cross-region write
 * (lua/cas-write.lua). Writes of one origin region are ordered by its HLC, never concurrent.
 */
export function areConcurrent(
  a: { originRegion: string; hlc: Hlc; clock: ClockVector },
  b: { originRegion: string; hlc: Hlc; clock: ClockVector },
): boolean {
  return a.originRegion !== b.originRegion && !knewOf(a.clock, b) && !knewOf(b.clock, a);
}

/**
 * A seen clock encoded with one region's entry replaced by a write's own HLC, for many writes:
 * the entries before and after each origin region are encoded once.
 */
export class SeenVector {
  private readonly around = new Map<string, [before: string, after: string]>();

  constructor(readonly clock: ClockVector) {}

  /** encodeClockVector({ ...clock, [originRegion]: hlc }). */
  encodeWith(originRegion: string, hlc: Hlc): string {
    let parts = this.around.get(originRegion);
    if (!parts) {
      const others = Object.keys(this.clock)
        .filter((region) => region !== originRegion)
        .sort();
      const encode = (regions: string[]) =>
        regions.map((region) => `${region}:${encodeHlc(this.clock[region]!)}`).join(",");
      const before = encode(others.filter((region) => region < originRegion));
      const after = encode(others.filter((region) => region > originRegion));
      parts = [before && `${before},`, after && `,${after}`];
      this.around.set(originRegion, parts);
    }
    return `${parts[0]}${originRegion}:${encodeHlc(hlc)}${parts[1]}`;
  }
}

import { show, StrataError } from "../errors.js";
import { hex48 } from "./hex48.js";
import { HLC_MAX_COUNTER, HLC_MAX_WALL_MS, type Hlc } from "./hlc.js";

/**
 * The total order every write is ranked by: (eventTsMs, epoch, hlc, originRegion),
 * compared left to right. `epoch` is 0 for live data and the backfill number for backfill
 * data, so a backfill correction beats the old value of the same event time but never a
 * newer event. The Lua CAS accepts a write only when its version is strictly greater.
 */
export interface Version {
  eventTsMs: number;
  epoch: number;
  hlc: Hlc;
  originRegion: string;
}

const MAX_EVENT_TS_MS = 2 ** 48 - 1;
const MAX_EPOCH = 2 ** 32 - 1;
/** Region names are short ASCII, so UTF-16, UTF-8 and Lua byte order all agree on them. */
const REGION_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Encodes a version as fixed-width hex (12 event ms, 8 epoch, 12 HLC ms, 4 HLC counter)
 * followed by the region: 36 + region characters, and comparing two encodings as strings
 * gives the same answer as comparing the tuples. The Lua script compares the hex chunks
 * as numbers (see lua/cas-write.lua).
 */
export function encodeVersion(version: Version): string {
  return (
    hex48(version.eventTsMs) +
    version.epoch.toString(16).padStart(8, "0") +
    hex48(version.hlc.wallMs) +
    version.hlc.counter.toString(16).padStart(4, "0") +
    version.originRegion
  );
}

export function decodeVersion(text: string): Version {
  return {
    eventTsMs: parseInt(text.slice(0, 12), 16),
    epoch: parseInt(text.slice(12, 20), 16),
    hlc: { wallMs: parseInt(text.slice(20, 32), 16), counter: parseInt(text.slice(32, 36), 16) },
    originRegion: text.slice(36),
  };
}

/** The event time of an encoded version, without decoding the rest (the read path needs only this). */
export function eventTsOfEncoded(text: string): number {
  return parseInt(text.slice(0, 12), 16);
}

export function compareVersions(a: Version, b: Version): number {
  return (
    a.eventTsMs - b.eventTsMs ||
    a.epoch - b.epoch ||
    a.hlc.wallMs - b.hlc.wallMs ||
    a.hlc.counter - b.hlc.counter ||
    (a.originRegion < b.originRegion ? -1 : a.originRegion > b.originRegion ? 1 : 0)
  );
}

/** Throws STRATA_E_BAD_WRITE_VERSION naming the bad part; returns the version typed. */
export function validateVersion(value: unknown): Version {
  // On the write path for every row: plain checks, no closures or allocations unless it fails.
  if (typeof value !== "object" || value === null) badVersion(value, "must be an object");
  const v = value as Partial<Version>;
  if (!isIntIn(v.eventTsMs, 0, MAX_EVENT_TS_MS))
    badVersion(value, "eventTsMs must be an integer in [0, 2^48)");
  if (!isIntIn(v.epoch, 0, MAX_EPOCH)) badVersion(value, "epoch must be an integer in [0, 2^32)");
  const hlc = v.hlc as Partial<Hlc> | undefined;
  if (
    typeof hlc !== "object" ||
    hlc === null ||
    !isIntIn(hlc.wallMs, 0, HLC_MAX_WALL_MS) ||
    !isIntIn(hlc.counter, 0, HLC_MAX_COUNTER)
  ) {
    badVersion(
      value,
      "hlc must be { wallMs: integer in [0, 2^48), counter: integer in [0, 65535] }",
    );
  }
  if (typeof v.originRegion !== "string" || !REGION_PATTERN.test(v.originRegion)) {
    badVersion(
      value,
      "originRegion must be lowercase letters, digits and '-', at most 63 characters",
    );
  }
  return v as Version;
}

function badVersion(value: unknown, what: string): never {
  throw new StrataError("STRATA_E_BAD_WRITE_VERSION", `version ${what}: ${show(value)}`, {
    version: value,
  });
}

export function isValidRegion(region: string): boolean {
  return REGION_PATTERN.test(region);
}

function isIntIn(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

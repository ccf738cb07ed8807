import { isStrataError, StrataError } from "../errors.js";
import {
  decodeChangelogRecord,
  encodeChangelogRecord,
  type EncodedRecord,
} from "../changelog/record.js";
import type { FeatureRegistry, ResolvedView } from "../registry/feature-registry.js";
import { encodeClockVector } from "../versions/clock-vector.js";
import { checkEventTime, DEFAULT_MAX_EVENT_TIME_SKEW_MS } from "../versions/event-time.js";
import { compareVersions, decodeVersion, encodeVersion } from "../versions/version.js";
import type { StoredRow } from "./stored-rows.js";

/** The highest-versioned row of those the regions store (undefined where a region has none), and where it is. */
export function pickWinner(
  rows: readonly (StoredRow | undefined)[],
): { row: StoredRow; index: number } | undefined {
  let best: { row: StoredRow; index: number } | undefined;
  rows.forEach((row, index) => {
    if (!row) return;
    if (!best || compareVersions(decodeVersion(row.version), decodeVersion(best.row.version)) > 0) {
      best = { row, index };
    }
  });
  return best;
}

/**
 * The changelog record that re-publishes a stored row as it is: its own version (so the CAS of
 * every region ranks it where it always ranked, and nothing regresses), its stored clock
 * vector and its stored value texts. Checked by decoding it as a consumer will, so a row that
 * could only be dead-lettered is reported instead of published, and so is a row locked by an
 * event time in the future (consumers refuse it; `npm run repair` unlocks it). Throws a
 * StrataError saying why a row cannot be re-published.
 */
export function winnerRecord(
  registry: FeatureRegistry,
  view: ResolvedView,
  redisKey: string,
  row: StoredRow,
  maxEventTimeSkewMs = DEFAULT_MAX_EVENT_TIME_SKEW_MS,
): EncodedRecord {
  const prefix = `fs:{${registry.project}:${view.entitySet}:`;
  if (!redisKey.startsWith(prefix) || !redisKey.endsWith("}")) {
    throw unrepairable(`${redisKey} is not a key of ${view.key}'s entities`, view, redisKey);
  }
  const encodedKey = redisKey.slice(prefix.length, -1);
  const version = decodeVersion(row.version);
  if (encodeVersion(version) !== row.version) {
    throw unrepairable(`stored version ${row.version} is malformed`, view, redisKey);
  }
  try {
    checkEventTime(version.eventTsMs, Date.now() + maxEventTimeSkewMs, maxEventTimeSkewMs);
  } catch (error) {
    if (!isStrataError(error)) throw error;
    throw unrepairable(`${error.message}; unlock it with npm run repair`, view, redisKey);
  }
  // A row with its version and no feature at all is a delete (a CDC source's deleted row):
  // re-published as one, so every region ends with the tombstone, not the old value.
  const deleted = row.values.length > 0 && row.values.every((value) => value === null);
  const missing = deleted ? -1 : row.values.findIndex((value) => value === null);
  if (missing >= 0) {
    throw unrepairable(`the row lacks feature ${view.features[missing]!.name}`, view, redisKey);
  }
  const record = encodeChangelogRecord({
    index: 0,
    view,
    encodedKey,
    version,
    // A row written before clocks were stored has none: its own origin's clock stands in.
    encodedClock: row.clock ?? encodeClockVector({ [version.originRegion]: version.hlc }),
    values: deleted ? [] : (row.values as string[]),
    ...(deleted ? { deleted: true as const } : {}),
  });
  try {
    decodeChangelogRecord(registry, record.key, record.value);
  } catch (error) {
    if (!isStrataError(error)) throw error;
    throw unrepairable(`${error.code}: ${error.message}`, view, redisKey);
  }
  return record;
}

function unrepairable(reason: string, view: ResolvedView, key: string): StrataError {
  return new StrataError(
    "STRATA_E_UNREPAIRABLE_ROW",
    `cannot re-publish ${key} (${view.key}): ${reason}`,
    {
      view: view.key,
      key,
    },
  );
}

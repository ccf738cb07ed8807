import { show, StrataError } from "../errors.js";
import { encodeEntityKey, entityRedisKey } from "../key-codec.js";
import type { FeatureRegistry, ResolvedView } from "../registry/feature-registry.js";
import { encodeClockVector, type ClockVector } from "../versions/clock-vector.js";
import { checkEventTime } from "../versions/event-time.js";
import { compareHlc, encodeHlc, HLC_MAX_COUNTER, HLC_MAX_WALL_MS } from "../versions/hlc.js";
import {
  encodeVersion,
  isValidRegion,
  validateVersion,
  type Version,
} from "../versions/version.js";

/** One row to write: every feature of one view major for one entity, at one version. */
export interface WriteRow {
  /** `view` (latest major) or `view@major`. */
  view: string;
  /** The entity's join keys, e.g. `{ driver_id: 1001 }`. */
  entity: Record<string, unknown>;
  /** A value (or null) for every feature of the view; `{}` for a delete. */
  values: Record<string, unknown>;
  version: Version;
  /**
   * A delete (CDC): the row's version is stored and its feature fields removed, so reads say
   * NOT_FOUND and no older write can bring a value back (docs/changelog.md, "Deletes").
   */
  deleted?: true;
  /**
   * What the writer had seen from each origin region (docs/online-store.md, "Clock vectors");
   * its own region's entry is raised to `version.hlc`. Defaults to `{ [originRegion]:
   * version.hlc }`, or, through a ChangelogWriter that has the region's store, the region's
   * seen clock with that entry.
   */
  clock?: ClockVector;
}

/** A row validated and encoded: everything a changelog record carries. */
export interface ValidatedWrite {
  index: number;
  view: ResolvedView;
  /** The entity's join key values, encoded (shared/key-codec.ts). */
  encodedKey: string;
  version: Version;
  encodedClock: string;
  /** Encoded values in the view's feature order, or in `features`' order when it is set. */
  values: string[];
  /**
   * Positions in `view.features` of the values, when the write carries only some features:
   * a changelog record of another minor version of the view. The CAS leaves the others as
   * they are stored. Undefined: every feature, in the view's order.
   */
  features?: readonly number[];
  /** Feature names a changelog record carried that this registry's view does not have (ignored). */
  ignoredFeatures?: readonly string[];
  /** A delete: no values; the CAS stores the version and removes the view's feature fields. */
  deleted?: true;
}

/** A validated row ready for the CAS script: with its Redis key and its version's text. */
export interface PreparedWrite extends ValidatedWrite {
  redisKey: string;
  encodedVersion: string;
}

/** The latest event time a batch accepts (shared/versions/event-time.ts), read once per batch. */
export interface EventTimeBound {
  latestMs: number;
  maxSkewMs: number;
}

export interface RejectedRow {
  index: number;
  code: string;
  message: string;
}

/**
 * Validates and encodes a whole batch before anything is written. If any row is bad, the
 * batch is rejected as a whole (STRATA_E_BATCH_REJECTED) and the error lists every bad row
 * with its own code and message, and how many good rows were therefore not written.
 */
export function prepareWrites(
  registry: FeatureRegistry,
  rows: readonly WriteRow[],
): PreparedWrite[] {
  return validateWrites(registry, rows).map((write) => readyForCas(registry, write));
}

/**
 * prepareWrites without what only the CAS needs, the Redis key and the version's text. The
 * changelog writer sends neither, and adds them with readyForCas only to a write that waits
 * until it is applied, so the common write does not pay for text it would throw away.
 */
export function validateWrites(
  registry: FeatureRegistry,
  rows: readonly WriteRow[],
  eventTime?: EventTimeBound,
): ValidatedWrite[] {
  const validated: ValidatedWrite[] = [];
  const rejected: RejectedRow[] = [];
  rows.forEach((row, index) => {
    try {
      const write = validateRow(registry, row, index);
      if (eventTime)
        checkEventTime(write.version.eventTsMs, eventTime.latestMs, eventTime.maxSkewMs);
      validated.push(write);
    } catch (error) {
      if (!(error instanceof StrataError)) throw error;
      rejected.push({ index, code: error.code, message: error.message });
    }
  });
  if (rejected.length > 0) throw batchRejected(rejected, rows.length);
  return validated;
}

/**
 * A validated write with the Redis key and version text the CAS script takes, copied field by
 * field rather than with a spread of `write`: on the writer's hot path the spread made
 * preparing a write markedly slower.
 */
export function readyForCas(registry: FeatureRegistry, write: ValidatedWrite): PreparedWrite {
  return {
    index: write.index,
    view: write.view,
    encodedKey: write.encodedKey,
    version: write.version,
    encodedClock: write.encodedClock,
    values: write.values,
    ...(write.features ? { features: write.features } : {}),
    ...(write.deleted ? { deleted: true as const } : {}),
    redisKey: entityRedisKey(registry.project, write.view.entitySet, write.encodedKey),
    encodedVersion: encodeVersion(write.version),
  };
}

/** STRATA_E_BATCH_REJECTED: every bad row with its own code, and how many good rows were not written. */
export function batchRejected(rejected: RejectedRow[], total: number): StrataError {
  return new StrataError(
    "STRATA_E_BATCH_REJECTED",
    `${rejected.length} of ${total} rows are invalid, so none was written; first: row ${rejected[0]!.index}: ${rejected[0]!.message}`,
    { rejected, notWritten: total - rejected.length },
  );
}

function validateRow(registry: FeatureRegistry, row: WriteRow, index: number): ValidatedWrite {
  if (typeof row !== "object" || row === null) {
    throw new StrataError("STRATA_E_BAD_ROW", `row ${index} is not an object`, { index });
  }
  const view = registry.viewByRef(row.view);
  const encodedKey = encodeEntityKey(view.joinKeys, row.entity ?? {});
  const version = validateVersion(row.version);
  const values = row.values ?? {};
  if (row.deleted === true) return validatedDelete(row, index, view, encodedKey, version, values);
  for (const name in values) {
    if (!view.featureIndex.has(name)) {
      throw new StrataError(
        "STRATA_E_UNKNOWN_FEATURE",
        `feature ${show(name)} does not exist in view ${view.key}`,
        { feature: name, view: view.key, known: view.features.map((f) => f.name) },
      );
    }
  }
  const encoded: string[] = [];
  for (const feature of view.features) {
    const value = values[feature.name];
    if (value === undefined) {
      throw new StrataError(
        "STRATA_E_MISSING_FEATURE_VALUE",
        `row has no value for feature ${show(feature.name)} of view ${view.key} (write null to clear it)`,
        { feature: feature.name, view: view.key },
      );
    }
    if (!feature.codec.accepts(value)) {
      throw new StrataError(
        "STRATA_E_VALUE_TYPE",
        `feature ${view.key}:${feature.name} is ${feature.type}, but the value is ${show(value)}`,
        { feature: feature.name, view: view.key, type: feature.type },
      );
    }
    encoded.push(feature.codec.encode(value));
  }
  return {
    index,
    view,
    encodedKey,
    version,
    // The common case, no clock given, is the writer's own entry: encode it without building a vector.
    encodedClock:
      row.clock === undefined
        ? `${version.originRegion}:${encodeHlc(version.hlc)}`
        : encodeClockVector(withOwnEntry(checkClock(row.clock), version)),
    values: encoded,
  };
}

function validatedDelete(
  row: WriteRow,
  index: number,
  view: ResolvedView,
  encodedKey: string,
  version: Version,
  values: Record<string, unknown>,
): ValidatedWrite {
  if (Object.keys(values).length > 0) {
    throw new StrataError("STRATA_E_BAD_ROW", `row ${index} is a delete but carries values`, {
      index,
      view: view.key,
    });
  }
  return {
    index,
    view,
    encodedKey,
    version,
    encodedClock:
      row.clock === undefined
        ? `${version.originRegion}:${encodeHlc(version.hlc)}`
        : encodeClockVector(withOwnEntry(checkClock(row.clock), version)),
    values: [],
    deleted: true,
  };
}

/** The clock with the write's own region at least at its own HLC: a write knows of itself. */
function withOwnEntry(clock: ClockVector, version: Version): ClockVector {
  const own = clock[version.originRegion];
  if (own && compareHlc(own, version.hlc) >= 0) return clock;
  return { ...clock, [version.originRegion]: version.hlc };
}

function checkClock(clock: unknown): ClockVector {
  const fail = (): never => {
    throw new StrataError(
      "STRATA_E_BAD_WRITE_VERSION",
      `clock vector ${show(clock)} must map region names to { wallMs, counter }`,
      { clock },
    );
  };
  if (typeof clock !== "object" || clock === null) return fail();
  for (const [region, hlc] of Object.entries(clock as Record<string, unknown>)) {
    const h = hlc as { wallMs?: unknown; counter?: unknown } | null;
    if (
      !isValidRegion(region) ||
      !h ||
      !Number.isInteger(h.wallMs) ||
      !Number.isInteger(h.counter) ||
      (h.wallMs as number) < 0 ||
      (h.wallMs as number) > HLC_MAX_WALL_MS ||
      (h.counter as number) < 0 ||
      (h.counter as number) > HLC_MAX_COUNTER
    ) {
      fail();
    }
  }
  return clock as ClockVector;
}

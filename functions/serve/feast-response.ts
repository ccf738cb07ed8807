import { StrataError } from "../../shared/errors.js";
import type { DegradedRow, FeatureStatus, ReadResult } from "../../shared/online-store/index.js";
import type { ResolvedFeatureRef } from "../../shared/registry/index.js";
import { joinKeysNeeded, type OnlineFeaturesRequest } from "./feast-request.js";

const EPOCH_ZERO = '"1970-01-01T00:00:00Z"';
const QUOTED_STATUS: Record<FeatureStatus, string> = {
  PRESENT: '"PRESENT"',
  NOT_FOUND: '"NOT_FOUND"',
  NULL_VALUE: '"NULL_VALUE"',
  OUTSIDE_MAX_AGE: '"OUTSIDE_MAX_AGE"',
};
/** What follows a one-entity column's value, up to its event time. */
const STATUS_THEN_TIMESTAMP = Object.fromEntries(
  Object.entries(QUOTED_STATUS).map(([status, quoted]) => [
    status,
    `],"statuses":[${quoted}],"event_timestamps":[`,
  ]),
) as Record<FeatureStatus, string>;
/** What follows an entity column's value when the request has one entity (the common request). */
const ONE_ENTITY_STATUSES = `],"statuses":["PRESENT"],"event_timestamps":[${EPOCH_ZERO}]}`;
/**
 * Response names per resolved list. The registry hands out the same list for the same
 * feature list and keeps its lists within a byte budget, so these live only as long as it
 * keeps theirs, and nothing here is keyed by what a request chooses freely.
 */
const namesCache = new WeakMap<readonly ResolvedFeatureRef[], { short?: Names; full?: Names }>();

interface Names {
  features: string[];
  /** `feature_names` of a request whose entity columns are exactly the join keys needed. */
  metadata: string;
}

/**
 * The response as Feast's feature server gives it, column-major: `metadata.feature_names`
 * lists the join keys then the features, and `results[i]` holds, for feature_names[i], one
 * value, status and event timestamp per entity row. Strata adds a top-level `"strata"`
 * object only when it has something to say (degraded rows).
 *
 * Written by hand rather than through JSON.stringify: the shape is fixed, values need
 * bigint and bytes handling, and the serving path is latency-critical.
 */
export function renderOnlineFeaturesResponse(
  request: OnlineFeaturesRequest,
  result: ReadResult,
): string {
  const rowCount = request.entityRows.length;
  const rows = result.rows;
  // One pass of appends (V8 keeps them as a rope, flattened once when the server encodes
  // the body): no per-column arrays and joins on the hot path.
  let out = `{"metadata":{"feature_names":${metadataNames(request)}},"results":[`;
  const entityStatuses =
    rowCount === 1
      ? ONE_ENTITY_STATUSES
      : `],"statuses":[${repeat('"PRESENT"', rowCount)}],"event_timestamps":[${repeat(EPOCH_ZERO, rowCount)}]}`;
  const floats = floatKinds(request.refs);
  const integerKeys = integerJoinKeys(request.refs);
  let first = true;
  for (const column of request.entityColumns) {
    out += first ? '{"values":[' : ',{"values":[';
    first = false;
    const echo = integerKeys.has(column.name) ? integerKeyJson : jsonValue;
    for (let r = 0; r < rowCount; r++)
      out += r === 0 ? echo(column.values[r]) : `,${echo(column.values[r])}`;
    out += entityStatuses;
  }
  for (let f = 0; f < request.refs.length; f++) {
    const floatKind = floats[f]!;
    out += first ? '{"values":[' : ',{"values":[';
    first = false;
    if (rowCount === 1) {
      // The common request, one entity: no per-column strings to build and join, and as few
      // pieces as the column has parts that vary.
      const row = rows[0]!;
      const text = row.jsonTexts[f] ?? jsonValue(row.values[f]);
      out += `${floatKind ? floatJson(text, floatKind) : text}${STATUS_THEN_TIMESTAMP[row.statuses[f]!]}${isoTimestamp(row.eventTimestamps[f])}]}`;
      continue;
    }
    let statuses = "";
    let times = "";
    for (let r = 0; r < rowCount; r++) {
      const row = rows[r]!;
      const sep = r === 0 ? "" : ",";
      const text = row.jsonTexts[f] ?? jsonValue(row.values[f]);
      out += sep + (floatKind ? floatJson(text, floatKind) : text);
      statuses += sep + QUOTED_STATUS[row.statuses[f]!];
      times += sep + isoTimestamp(row.eventTimestamps[f]);
    }
    out += `],"statuses":[${statuses}],"event_timestamps":[${times}]}`;
  }
  out += result.degraded ? `]${degradedField(result.degraded)}}` : "]}";
  return out;
}

/**
 * `,"strata":{"degraded":[0,2],"age_ms":[1200,800],...}`: the entity rows Redis could not
 * answer, served from what the hot cache last held (Feast's statuses stay as they are), and how
 * long ago each one's oldest value was read from Redis.
 */
function degradedField(degraded: readonly DegradedRow[]): string {
  const rows = degraded.map((d) => d.row).join(",");
  const ages = degraded.map((d) => Math.round(d.ageMs)).join(",");
  return `,"strata":{"degraded":[${rows}],"age_ms":[${ages}],"reason":"redis_unavailable","detail":"these rows were served from the hot cache while Redis was unreachable; their values may be stale"}`;
}

/**
 * `["driver_id","conv_rate",...]`. A request naming exactly the join keys its features need
 * gets the text built once for its list; any other entity columns are the request's own, of
 * any size, so their text is built for that request alone and never kept.
 */
function metadataNames(request: OnlineFeaturesRequest): string {
  const names = featureNames(request.refs, request.fullFeatureNames);
  const joinKeys = joinKeysNeeded(request.refs);
  const columns = request.entityColumns;
  if (columns.length === joinKeys.length && columns.every((c, i) => c.name === joinKeys[i])) {
    return names.metadata;
  }
  return JSON.stringify([...columns.map((c) => c.name), ...names.features]);
}

/**
 * `feature` (Feast's default) or `view__feature` with full_feature_names; a pinned major is
 * written `view@2__feature` so two majors never share a name. Short names that collide are
 * refused rather than silently shadowed.
 */
function featureNames(refs: readonly ResolvedFeatureRef[], full: boolean): Names {
  let cached = namesCache.get(refs);
  if (!cached) namesCache.set(refs, (cached = {}));
  let names = full ? cached.full : cached.short;
  if (!names) {
    const features = buildNames(refs, full);
    names = { features, metadata: JSON.stringify([...joinKeysNeeded(refs), ...features]) };
    if (full) cached.full = names;
    else cached.short = names;
  }
  return names;
}

function buildNames(refs: readonly ResolvedFeatureRef[], full: boolean): string[] {
  const pinned = (ref: ResolvedFeatureRef) => ref.ref.includes("@");
  const names = refs.map((ref) =>
    full
      ? `${ref.view.name}${pinned(ref) ? `@${ref.view.major}` : ""}__${ref.feature.name}`
      : ref.feature.name,
  );
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      throw new StrataError(
        "STRATA_E_FEATURE_NAME_COLLISION",
        `two requested features are both named "${name}"; ask with "full_feature_names": true`,
        { feature: name },
      );
    }
    seen.add(name);
  }
  return names;
}

const integerKeysCache = new WeakMap<readonly ResolvedFeatureRef[], Set<string>>();

/** The integer join keys (int32, int64) of the requested features' views, once per resolved list. */
function integerJoinKeys(refs: readonly ResolvedFeatureRef[]): Set<string> {
  let keys = integerKeysCache.get(refs);
  if (!keys) {
    keys = new Set(
      refs.flatMap((ref) =>
        ref.view.joinKeys.filter((k) => k.type !== "string").map((k) => k.name),
      ),
    );
    integerKeysCache.set(refs, keys);
  }
  return keys;
}

/**
 * An integer join key echoed as the number it names, as Feast echoes it: a key sent as a
 * decimal string ("1001", which the read accepted as an int64) is written 1001, exact
 * beyond 2^53 ("-0" is 0).
 */
function integerKeyJson(value: unknown): string {
  if (typeof value !== "string") return jsonValue(value);
  return value === "-0" ? "0" : value;
}

/** Per requested feature: 0, or whether it is a float (1) or a list of floats (2). */
type FloatKind = 0 | 1 | 2;

const floatKindsCache = new WeakMap<readonly ResolvedFeatureRef[], FloatKind[]>();

/** Which requested features are float32 / float64 (or lists of them), once per resolved list. */
function floatKinds(refs: readonly ResolvedFeatureRef[]): FloatKind[] {
  let kinds = floatKindsCache.get(refs);
  if (!kinds) {
    kinds = refs.map(({ feature: { type } }) =>
      type === "float64" || type === "float32"
        ? 1
        : type === "float64[]" || type === "float32[]"
          ? 2
          : 0,
    );
    floatKindsCache.set(refs, kinds);
  }
  return kinds;
}

/** An integer literal inside a JSON list of numbers: after `[` or `,`, before `,` or `]`. */
const LIST_INTEGER = /(?<=[[,])(-?\d+)(?=[,\]])/g;

/**
 * A float's JSON with its type unambiguous, as Feast's server writes it (Python's float
 * text): a whole number gets `.0` (`142.0`, not `142`), so a reader that types values by
 * their JSON, as Feast's SDK does, gets a float back. Texts with a fraction or an exponent,
 * and null, pass unchanged.
 */
export function floatJson(text: string, kind: 1 | 2): string {
  if (kind === 2) return text.charCodeAt(0) === 0x5b ? text.replace(LIST_INTEGER, "$1.0") : text;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Anything but a sign or a digit: a fraction, an exponent, or not a number (null).
    if (c !== 0x2d && (c < 0x30 || c > 0x39)) return text;
  }
  return `${text}.0`;
}

/** JSON for one value: bigints as exact numbers, bytes as base64 (as Feast's JSON does), non-finite numbers as null. */
export function jsonValue(value: unknown): string {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    default:
      if (value === null || value === undefined) return "null";
      if (value instanceof Uint8Array) return `"${Buffer.from(value).toString("base64")}"`;
      if (Array.isArray(value)) return `[${value.map(jsonValue).join(",")}]`;
      return JSON.stringify(value) ?? "null";
  }
}

/**
 * Feast's form, quoted: seconds precision, `Z`; milliseconds only when there are some. The
 * last few times formatted are remembered: a response's values mostly share their rows'
 * event times, and hot entities are asked for again and again.
 */
function isoTimestamp(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return EPOCH_ZERO;
  let text = recentTimestamps.get(ms);
  if (text === undefined) {
    const iso = new Date(ms).toISOString();
    text = `"${iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso}"`;
    if (recentTimestamps.size >= RECENT_TIMESTAMPS) recentTimestamps.clear();
    recentTimestamps.set(ms, text);
  }
  return text;
}

const RECENT_TIMESTAMPS = 1_024;
const recentTimestamps = new Map<number, string>();

function repeat(item: string, count: number): string {
  return new Array<string>(count).fill(item).join(",");
}

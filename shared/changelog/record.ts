import { show, StrataError } from "../errors.js";
import {
  decodeEntityKey,
  encodeEntityKey,
  entityRedisKey,
  plainEntityKeyPattern,
} from "../key-codec.js";
import type { PreparedWrite, ValidatedWrite } from "../online-store/write-path.js";
import type { FeatureRegistry, ResolvedView } from "../registry/feature-registry.js";
import { encodeVersion, validateVersion, type Version } from "../versions/version.js";
import { readCanonicalRecord, type CanonicalViewLookup } from "./canonical-record.js";

/**
 * The changelog record, schema 1 (docs/changelog.md). JSON, because records are small
 * (a few hundred bytes), V8 parses JSON natively faster than a JavaScript MessagePack or
 * Avro decoder handles objects this size, and an operator can read a poisoned record with
 * any console consumer. Values travel in the value codec's text form, the text Redis
 * stores: exact for int64 past 2^53 and for bytes, and applied without re-encoding.
 *
 * Key: `<view>@<major>/<encoded entity key>`, so log compaction keeps one record per
 * (view major, entity). Value:
 *   {"schema":1, "view":"driver_hourly_stats", "major":1, "entity":"i1001",
 *    "version":{"eventTsMs":..., "epoch":0, "hlc":{"wallMs":..., "counter":0}, "originRegion":"eu-west-1"},
 *    "clock":"eu-west-1:0190a1b2c3d40000", "values":{"conv_rate":"0.5", ...}}
 * A delete (a CDC source's deleted row) has `"values":{}` and `"deleted":true` after them.
 */
export const CHANGELOG_SCHEMA_VERSION = 1;

export interface ChangelogRecordV1 {
  schema: 1;
  view: string;
  major: number;
  /** The entity's join key values, encoded (shared/key-codec.ts). */
  entity: string;
  version: Version;
  /** The writer's clock vector, encoded (shared/versions/clock-vector.ts). */
  clock: string;
  /**
   * The features of the view major as its writer's registry had them, by name, in value-codec
   * text ("" is null). A consumer at another minor version ignores those it does not know
   * and leaves those missing here as they are stored.
   */
  values: Record<string, string>;
  /** A delete: `values` is empty; the CAS stores the version and removes the view's features. */
  deleted?: true;
}

export interface EncodedRecord {
  key: string;
  value: string;
}

export function recordKey(viewKey: string, encodedEntity: string): string {
  return `${viewKey}/${encodedEntity}`;
}

/** Whether `key` is recordKey(viewKey, encodedEntity), without building that string for every record. */
function isRecordKey(key: string | undefined, viewKey: string, encodedEntity: string): boolean {
  return (
    key !== undefined &&
    key.length === viewKey.length + 1 + encodedEntity.length &&
    key.startsWith(viewKey) &&
    key.charCodeAt(viewKey.length) === SLASH &&
    key.endsWith(encodedEntity)
  );
}

const SLASH = 0x2f;

/**
 * The record of one prepared write. Written as text directly rather than through an object
 * and JSON.stringify: the writer encodes every row, and an object per record built only to be
 * serialized costs more than writing the text. The output is exactly JSON.stringify of a
 * ChangelogRecordV1 (test/unit/changelog/record.test.ts checks it).
 */
export function encodeChangelogRecord(write: ValidatedWrite): EncodedRecord {
  const template = templateOf(write.view);
  const { version } = write;
  if (write.deleted) return encodeDelete(write, template);
  let value =
    `${template.head}${JSON.stringify(write.encodedKey)},"version":{"eventTsMs":${version.eventTsMs},` +
    `"epoch":${version.epoch},"hlc":{"wallMs":${version.hlc.wallMs},"counter":${version.hlc.counter}},` +
    `"originRegion":${JSON.stringify(version.originRegion)}},"clock":${JSON.stringify(write.encodedClock)},"values":{`;
  for (let i = 0; i < template.features.length; i++) {
    const text = write.values[i]!;
    value += template.plainText[i]
      ? `${template.features[i]!}"${text}"`
      : template.features[i]! + JSON.stringify(text);
  }
  value += "}}";
  flatten(value);
  return { key: recordKey(write.view.key, write.encodedKey), value };
}

/** A delete's record: JSON.stringify of a ChangelogRecordV1 with `values: {}` and `deleted: true`. */
function encodeDelete(write: ValidatedWrite, template: RecordTemplate): EncodedRecord {
  const { version } = write;
  const value =
    `${template.head}${JSON.stringify(write.encodedKey)},"version":{"eventTsMs":${version.eventTsMs},` +
    `"epoch":${version.epoch},"hlc":{"wallMs":${version.hlc.wallMs},"counter":${version.hlc.counter}},` +
    `"originRegion":${JSON.stringify(version.originRegion)}},"clock":${JSON.stringify(write.encodedClock)},"values":{},"deleted":true}`;
  return { key: recordKey(write.view.key, write.encodedKey), value };
}

// Only written: the write keeps flatten()'s read from being optimised away.
// eslint-disable-next-line @typescript-eslint/no-unused-vars
let flattenSink = 0;

/**
 * V8 builds a concatenated string as a rope: a tree of the ~25 pieces above, turned into one
 * flat string only when something reads its characters. A record waits in the write queue
 * until Kafka takes it, so its rope survived young-generation collections and was copied by
 * each of them; flattening it once here frees the pieces at once, so collections copy one
 * string instead of a tree. Reading a character is what flattens. This relies on V8's string
 * representation; docs/performance.md has the paired figure that keeps it.
 */
function flatten(text: string): void {
  flattenSink ^= text.charCodeAt(text.length - 1);
}

interface RecordTemplate {
  /** `{"schema":1,"view":"<name>","major":<major>,"entity":` */
  head: string;
  /** `"<feature>":`, with a leading comma after the first. */
  features: string[];
  /**
   * Per feature, whether its value texts need no JSON escaping (ValueCodec.plainText). Most
   * features are numbers, whose texts can be quoted directly: JSON.stringify would scan each
   * for characters to escape, on the writer's hot path, and find none.
   */
  plainText: boolean[];
}

const templates = new WeakMap<ResolvedView, RecordTemplate>();

function templateOf(view: ResolvedView): RecordTemplate {
  let template = templates.get(view);
  if (!template) {
    template = {
      head: `{"schema":${CHANGELOG_SCHEMA_VERSION},"view":${JSON.stringify(view.name)},"major":${view.major},"entity":`,
      features: view.features.map((f, i) => `${i === 0 ? "" : ","}${JSON.stringify(f.name)}:`),
      plainText: view.features.map((f) => f.codec.plainText),
    };
    templates.set(view, template);
  }
  return template;
}

const CLOCK_VECTOR =
  /^(?:[a-z0-9][a-z0-9-]{0,62}:[0-9a-f]{16})(?:,[a-z0-9][a-z0-9-]{0,62}:[0-9a-f]{16})*$/;

/**
 * Decodes and validates one record against the registry, into a write ready for the CAS.
 * Everything a bad record can be wrong about throws a StrataError whose code and message
 * become its dead-letter reason: STRATA_E_BAD_RECORD, STRATA_E_UNSUPPORTED_SCHEMA,
 * STRATA_E_UNKNOWN_VIEW, STRATA_E_BAD_ENTITY_KEY, STRATA_E_BAD_WRITE_VERSION,
 * STRATA_E_UNKNOWN_FEATURE (a name no view could have), STRATA_E_VALUE_TYPE. A feature of
 * another minor version of the view is not an error (see checkValues).
 */
export function decodeChangelogRecord(
  registry: FeatureRegistry,
  key: string | undefined,
  value: string | undefined,
  index = 0,
): PreparedWrite {
  if (value === undefined || value === "") throw badRecord("the record has no value", key);
  // Records as Strata writes them take the fast path; anything else is parsed as JSON.
  const canonical = readCanonicalRecord(value, canonicalViewLookup(registry));
  if (canonical) {
    const { view, entity, version, clock, values } = canonical;
    return validated(registry, key, index, view, entity, version, clock, values, checkValueTypes);
  }
  const parsed = parseJsonRecord(value, key);
  const view = registry.view(parsed.view, parsed.major);
  if (typeof parsed.entity !== "string") throw badRecord('"entity" must be a string', key);
  const { entity, version, clock, values } = parsed;
  if (parsed.deleted !== undefined) {
    return validated(registry, key, index, view, entity, version, clock, values, (v, vals) =>
      checkDelete(v, vals, parsed.deleted, key),
    );
  }
  return validated(registry, key, index, view, entity, version, clock, values, checkValues);
}

const lookups = new WeakMap<FeatureRegistry, CanonicalViewLookup<ResolvedView>>();

/**
 * What readCanonicalRecord needs to know of the views of a registry: the view major a record
 * names and the text encodeChangelogRecord writes before each of its values. One per registry.
 */
export function canonicalViewLookup(registry: FeatureRegistry): CanonicalViewLookup<ResolvedView> {
  let lookup = lookups.get(registry);
  if (!lookup) {
    lookup = (name, major) => {
      const view = registry.findView(name, major);
      return view && { view, valuePrefixes: templateOf(view).features };
    };
    lookups.set(registry, lookup);
  }
  return lookup;
}

/** The record as JSON, its schema and view named; the rest is checked by validated(). */
function parseJsonRecord(
  value: string,
  key: string | undefined,
): Partial<ChangelogRecordV1> & { view: string; major: number } {
  let parsed: Partial<ChangelogRecordV1> & { schema?: unknown };
  try {
    parsed = JSON.parse(value) as typeof parsed;
  } catch (error) {
    throw badRecord(`the value is not JSON (${(error as Error).message})`, key);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw badRecord("the value is not a JSON object", key);
  }
  if (parsed.schema !== CHANGELOG_SCHEMA_VERSION) {
    if (Number.isInteger(parsed.schema)) {
      throw new StrataError(
        "STRATA_E_UNSUPPORTED_SCHEMA",
        `record schema ${show(parsed.schema)} is not one this build reads (${CHANGELOG_SCHEMA_VERSION})`,
        { schema: parsed.schema, key },
      );
    }
    throw badRecord(`"schema" is ${show(parsed.schema)}, not a schema version`, key);
  }
  if (typeof parsed.view !== "string" || !Number.isInteger(parsed.major)) {
    throw badRecord('"view" must be a view name and "major" an integer', key);
  }
  return parsed as typeof parsed & { view: string; major: number };
}

/**
 * The checks every record passes however it was read, in this order (a record wrong in two
 * ways is dead-lettered for the first), and the write they make of it.
 */
function validated<Values>(
  registry: FeatureRegistry,
  key: string | undefined,
  index: number,
  view: ResolvedView,
  entity: string,
  version: unknown,
  clock: unknown,
  values: Values,
  checkedValues: (view: ResolvedView, values: Values) => CheckedValues,
): PreparedWrite {
  checkEntity(view, entity);
  if (!isRecordKey(key, view.key, entity)) {
    // Compaction keeps the last record per key: a key that is not (view major, entity)
    // would let it drop rows it must keep.
    throw badRecord(`the key ${show(key)} is not ${show(recordKey(view.key, entity))}`, key);
  }
  const checkedVersion = validateVersion(version);
  if (typeof clock !== "string" || !CLOCK_VECTOR.test(clock)) {
    throw badRecord(`"clock" ${show(clock)} is not an encoded clock vector`, key);
  }
  const checked = checkedValues(view, values);
  const write: PreparedWrite = {
    index,
    view,
    encodedKey: entity,
    redisKey: entityRedisKey(registry.project, view.entitySet, entity),
    version: checkedVersion,
    encodedVersion: encodeVersion(checkedVersion),
    encodedClock: clock,
    values: checked.values,
  };
  if (checked.features) write.features = checked.features;
  if (checked.ignoredFeatures) write.ignoredFeatures = checked.ignoredFeatures;
  if (checked.deleted) write.deleted = true;
  return write;
}

function checkEntity(view: ResolvedView, encoded: string): void {
  if (plainEntityKeyPattern(view.joinKeys).test(encoded)) return;
  const parts = decodeEntityKey(encoded);
  const row: Record<string, unknown> = {};
  view.joinKeys.forEach((joinKey, i) => (row[joinKey.name] = parts[i]));
  // Re-encoding with the view's join key types catches a wrong count and a wrong type.
  if (parts.length !== view.joinKeys.length || encodeEntityKey(view.joinKeys, row) !== encoded) {
    throw new StrataError(
      "STRATA_E_BAD_ENTITY_KEY",
      `entity ${show(encoded)} does not fit the join keys of ${view.key} (${view.joinKeys.map((k) => `${k.name}: ${k.type}`).join(", ")})`,
      { key: encoded, view: view.key },
    );
  }
}

/** The values of a record, and which of the view's features they are when not all of them. */
interface CheckedValues {
  values: string[];
  features?: readonly number[];
  ignoredFeatures?: readonly string[];
  deleted?: true;
}

/** A delete carries `"deleted":true` and no values. */
function checkDelete(
  view: ResolvedView,
  values: unknown,
  deleted: unknown,
  key: string | undefined,
): CheckedValues {
  if (deleted !== true) throw badRecord(`"deleted" is ${show(deleted)}, not true`, key);
  if (
    typeof values !== "object" ||
    values === null ||
    Array.isArray(values) ||
    Object.keys(values).length > 0
  ) {
    throw badRecord(`a delete of ${view.key} must carry "values":{}`, key);
  }
  return { values: [], deleted: true };
}

/** A name that could be a feature of some version of a view (the registry's identifier rule). */
const FEATURE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * Values by name, as any writer may send them. A record of another minor version of the view
 * may carry a feature this registry's view does not have (ignored, and reported so the
 * consumer can count it) or lack one it has (left as it is stored: the write names only the
 * features it carries). Minor versions then roll forward and back without losing writes.
 */
function checkValues(view: ResolvedView, values: unknown): CheckedValues {
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    throw badRecord('"values" must be an object of feature name to encoded value', undefined);
  }
  const byName = values as Record<string, unknown>;
  let ignoredFeatures: string[] | undefined;
  for (const name in byName) {
    if (view.featureIndex.has(name)) continue;
    if (!FEATURE_NAME.test(name)) {
      throw new StrataError(
        "STRATA_E_UNKNOWN_FEATURE",
        `feature ${show(name)} is not a feature name, in view ${view.key}`,
        { feature: name, view: view.key },
      );
    }
    (ignoredFeatures ??= []).push(name);
  }
  const texts: string[] = [];
  let features: number[] | undefined;
  view.features.forEach((feature, i) => {
    const text = byName[feature.name];
    if (text === undefined) {
      features ??= Array.from({ length: i }, (_, j) => j);
      return;
    }
    if (typeof text !== "string") {
      throw new StrataError(
        "STRATA_E_VALUE_TYPE",
        `record holds ${show(text)} for feature ${view.key}:${feature.name}, not an encoded value`,
        { feature: feature.name, view: view.key, type: feature.type },
      );
    }
    if (!feature.codec.acceptsText(text)) throw valueTypeError(view, feature, text);
    features?.push(i);
    texts.push(text);
  });
  return {
    values: texts,
    ...(features ? { features } : {}),
    ...(ignoredFeatures ? { ignoredFeatures } : {}),
  };
}

/** Values read in the view's feature order (the canonical form): only their types to check. */
function checkValueTypes(view: ResolvedView, texts: string[]): CheckedValues {
  for (let i = 0; i < texts.length; i++) {
    const feature = view.features[i]!;
    if (!feature.codec.acceptsText(texts[i]!)) throw valueTypeError(view, feature, texts[i]!);
  }
  return { values: texts };
}

function valueTypeError(
  view: ResolvedView,
  feature: ResolvedView["features"][number],
  text: string,
): StrataError {
  return new StrataError(
    "STRATA_E_VALUE_TYPE",
    `feature ${view.key}:${feature.name} is ${feature.type}, but the record holds ${show(text)}`,
    { feature: feature.name, view: view.key, type: feature.type },
  );
}

function badRecord(reason: string, key: string | undefined): StrataError {
  return new StrataError("STRATA_E_BAD_RECORD", `changelog record ${show(key)}: ${reason}`, {
    key,
  });
}

import { isValidRegion } from "../versions/version.js";
import { show, StrataError } from "../errors.js";
import { definitionHash } from "../registry/definition-hash.js";
import type { FeatureRepoDefinition } from "../registry/definitions.js";
import { FeatureRegistry } from "../registry/feature-registry.js";

/** The record format this build writes and reads. */
export const REGISTRY_FORMAT = 1;

/** The incompatible changes an apply published, and whether it was allowed to. */
export interface PublishedBreaking {
  /** Whether the apply was run with allowBreaking (`--allow-breaking`). */
  allowed: boolean;
  /** Each incompatible change the apply published, as `<subject>: <reason>`. */
  changes: string[];
}

/**
 * One published registry: the JSON value of a record of `strata.<project>.registry`. Every
 * field is checked when it is read (decodePublishedRegistry).
 */
export interface PublishedRegistry {
  format: typeof REGISTRY_FORMAT;
  project: string;
  /** 1, 2, ...: one more than the highest version the applying process could see. */
  version: number;
  /** definitionHash(definition). */
  hash: string;
  /** The hash of the registry this one was planned against; null for the first. */
  previousHash: string | null;
  /** The feature repo definition, as plain JSON. */
  definition: FeatureRepoDefinition;
  /** `user@host`, or STRATA_APPLIED_BY. */
  appliedBy: string;
  /** When the apply published it: ISO 8601, UTC, milliseconds (`2026-12-06T09:00:00.000Z`). */
  appliedAt: string;
  /** The region whose Kafka the apply published to. */
  region: string;
  /** The strata package version that applied it. */
  strataVersion: string;
  breaking: PublishedBreaking;
}

/** A decoded, validated record with the registry built from it. */
export interface ValidRegistryRecord {
  record: PublishedRegistry;
  registry: FeatureRegistry;
}

/**
 * The record's Kafka key: its version, region and hash. Distinct applies have distinct keys, so
 * compaction keeps the history readers fold (registry-order.ts); only a re-publication of the
 * same registry by the same region under the same version can compact away.
 */
export function registryRecordKey(
  record: Pick<PublishedRegistry, "version" | "region" | "hash">,
): string {
  return `${record.version}:${record.region}:${record.hash}`;
}

export function encodePublishedRegistry(record: PublishedRegistry): Buffer {
  return Buffer.from(JSON.stringify(record));
}

const HASH = /^[0-9a-f]{64}$/;
const FIELDS = new Set([
  "format",
  "project",
  "version",
  "hash",
  "previousHash",
  "definition",
  "appliedBy",
  "appliedAt",
  "region",
  "strataVersion",
  "breaking",
]);

/**
 * Decodes and validates a registry record read from `project`'s registry topic (or a copy):
 * JSON, every field's shape, the project, the hash against the definition, and the definition
 * building a FeatureRegistry. Throws STRATA_E_REGISTRY_INVALID naming what is wrong (with the
 * definitions' own error as `details.cause` when they do not validate).
 */
export function decodePublishedRegistry(
  value: Buffer | string | null,
  project: string,
): ValidRegistryRecord {
  if (value === null) throw invalid("the record has no value (a tombstone)", {});
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString());
  } catch (error) {
    throw invalid(`the record is not JSON (${(error as Error).message})`, {});
  }
  const record = checkShape(parsed);
  if (record.project !== project) {
    throw invalid(
      `the record is for project ${show(record.project)}, but it is in project ${show(project)}'s registry topic`,
      { recordProject: record.project, project },
    );
  }
  const hash = definitionHash(record.definition);
  if (hash !== record.hash) {
    throw invalid(`the record's hash ${record.hash} is not the hash of its definition (${hash})`, {
      hash: record.hash,
      computed: hash,
    });
  }
  if (record.definition.project !== project) {
    throw invalid(
      `the record's definition is for project ${show(record.definition.project)}, not ${show(project)}`,
      { definitionProject: record.definition.project, project },
    );
  }
  let registry: FeatureRegistry;
  try {
    registry = new FeatureRegistry(record.definition);
  } catch (error) {
    const cause =
      error instanceof StrataError ? error.toJSON() : { message: (error as Error).message };
    throw invalid(`the record's definition does not validate: ${cause.message}`, { cause });
  }
  return { record, registry };
}

function checkShape(parsed: unknown): PublishedRegistry {
  if (!isObject(parsed)) throw invalid(`the record is ${show(parsed)}, not a JSON object`, {});
  if (parsed.format !== REGISTRY_FORMAT) {
    throw invalid(
      `the record has format ${show(parsed.format)}; this build reads format ${REGISTRY_FORMAT}`,
      { format: parsed.format },
    );
  }
  const unknown = Object.keys(parsed).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) throw invalid(`the record has unknown fields ${show(unknown)}`, {});
  const r = parsed;
  field(r, "project", typeof r.project === "string" && r.project.length > 0, "a project name");
  field(
    r,
    "version",
    Number.isSafeInteger(r.version) && (r.version as number) >= 1,
    "an integer from 1",
  );
  field(r, "hash", typeof r.hash === "string" && HASH.test(r.hash), "64 lowercase hex digits");
  field(
    r,
    "previousHash",
    r.previousHash === null || (typeof r.previousHash === "string" && HASH.test(r.previousHash)),
    "null or 64 lowercase hex digits",
  );
  field(
    r,
    "definition",
    isObject(r.definition) &&
      Array.isArray(r.definition.entities) &&
      Array.isArray(r.definition.views) &&
      (r.definition.services === undefined || Array.isArray(r.definition.services)) &&
      (r.definition.pushSources === undefined || Array.isArray(r.definition.pushSources)),
    "a feature repo definition (project, entities[], views[], services[]?, pushSources[]?)",
  );
  field(r, "appliedBy", typeof r.appliedBy === "string" && r.appliedBy.length > 0, "a name");
  field(r, "appliedAt", isIsoTime(r.appliedAt), "an ISO 8601 UTC time with milliseconds");
  field(r, "region", typeof r.region === "string" && isValidRegion(r.region), "a region name");
  field(r, "strataVersion", typeof r.strataVersion === "string", "a version string");
  field(
    r,
    "breaking",
    isObject(r.breaking) &&
      typeof r.breaking.allowed === "boolean" &&
      Array.isArray(r.breaking.changes) &&
      r.breaking.changes.every((c) => typeof c === "string"),
    "{ allowed: boolean, changes: string[] }",
  );
  return parsed as unknown as PublishedRegistry;
}

function field(record: Record<string, unknown>, name: string, ok: boolean, wanted: string): void {
  if (!ok) {
    throw invalid(`the record's ${name} is ${show(record[name])}; it must be ${wanted}`, {
      field: name,
    });
  }
}

/** The one time format appliedAt takes, so that comparing the strings compares the times. */
function isIsoTime(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const time = new Date(value);
  return !Number.isNaN(time.getTime()) && time.toISOString() === value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(message: string, details: Record<string, unknown>): StrataError {
  return new StrataError("STRATA_E_REGISTRY_INVALID", `published registry: ${message}`, details);
}

/**
 * The total order on published registries that every region computes the same way: version,
 * then appliedAt, then region, then hash. The greatest is the one served.
 */
export function compareRegistries(
  a: Pick<PublishedRegistry, "version" | "appliedAt" | "region" | "hash">,
  b: Pick<PublishedRegistry, "version" | "appliedAt" | "region" | "hash">,
): number {
  return (
    a.version - b.version ||
    compareText(a.appliedAt, b.appliedAt) ||
    compareText(a.region, b.region) ||
    compareText(a.hash, b.hash)
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

import type { FeatureType, JoinKeyType } from "./feature-types.js";

/**
 * What a feature repo file declares. These are plain data: `defineRepo` only gives them
 * types; `FeatureRegistry` validates them and answers questions about them.
 */
export interface EntityDefinition {
  name: string;
  /** Join keys in the order they identify the entity, with their types. */
  joinKeys: Record<string, JoinKeyType>;
  description?: string;
}

export type Criticality = "critical" | "standard";

export interface FeatureViewDefinition {
  name: string;
  /** Semantic version: a new major is an incompatible transformation with its own storage. */
  version: string;
  /** Entity names (or the entity definitions themselves). */
  entities: (string | EntityDefinition)[];
  /** Features by name, or as a list (the form generated repos tend to use). */
  features: Record<string, FeatureType> | { name: string; type: FeatureType }[];
  /** Values older than this are served with status OUTSIDE_MAX_AGE. */
  maxAgeMs: number;
  /** critical: synchronous write-through; standard: asynchronous, batched. */
  criticality?: Criticality;
  /** The view is written by the CDC mapper from a captured table (docs/sources.md). */
  source?: CdcViewSource;
  description?: string;
}

export interface FeatureServiceDefinition {
  name: string;
  /** `view:feature` (latest major) or `view@major:feature` references. */
  features: string[];
  description?: string;
}

/**
 * Feast's push source: a name producers push rows to, written to one or more view majors.
 * A view can also be pushed to by its own name (`view` or `view@major`) without one.
 */
export interface PushSourceDefinition {
  name: string;
  /** `view` (latest major) or `view@major`; each takes its join keys and features from the pushed columns. */
  views: string[];
  /** The pushed column with each row's event time; Feast's default, `event_timestamp`, if absent. */
  timestampField?: string;
  description?: string;
}

export type AggregationFunction = "count" | "sum" | "mean" | "min" | "max" | "last_n";

/** One aggregate of an aggregation view, read as the feature `<view>:<name>`. */
export interface AggregationDefinition {
  /** The feature name read as `<view>:<name>`. */
  name: string;
  function: AggregationFunction;
  /** Input column (not for count). */
  column?: string;
  /** last_n only: how many values, 1..100. */
  n?: number;
  /** 60_000 .. 30 days; a multiple of tileMs. */
  windowMs: number;
  /** windowMs / tileMs <= 1440. */
  tileMs: number;
}

/** Where an aggregation view's events come from. */
export type AggregationSourceDefinition =
  | { push: true }
  | { cdc: string; keyColumns: Record<string, string>; timestampColumn?: string }
  | { topic: string; timestampField: string };

/**
 * Rolling window aggregates per entity, computed from a stream of events and kept as time
 * tiles in the entity's hash (docs/aggregations.md).
 */
export interface AggregationViewDefinition {
  name: string;
  /** Semver like feature views; a major is its own storage. */
  version: string;
  entities: (string | EntityDefinition)[];
  /** Input columns of an event and their scalar types (numeric for sum/mean/min/max). */
  inputs: Record<string, FeatureType>;
  /**
   * push: rows pushed to the view's name (or a push source naming it) become events;
   * cdc: inserts (and snapshot reads) of a CDC source's table become events, columns by name;
   * topic: JSON values of a Kafka topic, one event each.
   */
  source: AggregationSourceDefinition;
  aggregations: AggregationDefinition[];
  /** Events older than (the entity's highest event time seen) - allowedLatenessMs are too late. Default 5 min. */
  allowedLatenessMs?: number;
  description?: string;
}

export interface FeatureRepoDefinition {
  project: string;
  entities: EntityDefinition[];
  views: FeatureViewDefinition[];
  services?: FeatureServiceDefinition[];
  pushSources?: PushSourceDefinition[];
  /** Tables captured by Debezium that views name as their `source` (docs/sources.md). */
  cdcSources?: CdcSourceDefinition[];
  aggregationViews?: AggregationViewDefinition[];
}

/** A table captured by Debezium. Connection details are deployment config (STRATA_CDC_DATABASES), not repo. */
export interface CdcSourceDefinition {
  /** [a-z0-9_]+, unique among cdc sources. */
  name: string;
  /** Logical database name, resolved by runtime config (STRATA_CDC_DATABASES). */
  database: string;
  /** "<schema>.<table>", e.g. "public.cards". */
  table: string;
  description?: string;
}

/** Where a CDC-fed view's rows come from: a cdc source and how its columns map. */
export interface CdcViewSource {
  /** A CdcSourceDefinition name. */
  cdc: string;
  /** Join key -> column. */
  keyColumns: Record<string, string>;
  /** Feature -> column; a feature not listed reads the column of its own name. */
  columns?: Record<string, string>;
  /** The version's event time: the transaction's commit time (default) or a column's value. */
  eventTime?: "commit" | { column: string };
}

/** Identity helper for feature repo files: gives the object its type, nothing else. */
export function defineRepo(repo: FeatureRepoDefinition): FeatureRepoDefinition {
  return repo;
}

export function defineEntity(entity: EntityDefinition): EntityDefinition {
  return entity;
}

import { LRUCache } from "lru-cache";
import { show, StrataError } from "../errors.js";
import { resolveAggregationSpec, type AggregationSpec } from "./aggregation-view.js";
import type {
  AggregationViewDefinition,
  Criticality,
  EntityDefinition,
  FeatureRepoDefinition,
  FeatureServiceDefinition,
  FeatureViewDefinition,
  PushSourceDefinition,
} from "./definitions.js";
import {
  isFeatureType,
  isJoinKeyType,
  type FeatureType,
  type JoinKeyType,
} from "./feature-types.js";
import { resolveCdcSources, type ResolvedCdcSource } from "./cdc-sources.js";
import { formatSemVer, parseSemVer, type SemVer } from "./semver.js";
import { codecFor, type ValueCodec } from "./value-codec.js";

export interface JoinKey {
  name: string;
  type: JoinKeyType;
}

export interface ResolvedEntity {
  name: string;
  joinKeys: JoinKey[];
}

export interface ResolvedFeature {
  name: string;
  type: FeatureType;
  /** The type's value codec, resolved once: the read and write paths use it per value. */
  codec: ValueCodec;
}

/** One major of one feature view, validated, with everything the hot paths need precomputed. */
export interface ResolvedView {
  name: string;
  major: number;
  version: SemVer;
  /** `name@major`: the storage identity (minor and patch versions share it). */
  key: string;
  entities: ResolvedEntity[];
  /** Entity names joined by ",": the entity part of the Redis key. */
  entitySet: string;
  /** Join keys of all its entities, in declaration order. */
  joinKeys: JoinKey[];
  features: ResolvedFeature[];
  featureIndex: ReadonlyMap<string, number>;
  maxAgeMs: number;
  criticality: Criticality;
  /**
   * Set on aggregation views only: their features are the aggregates, computed from tiles
   * (shared/aggregations), not stored values. Feature references and services resolve to them
   * like to any view; writes and backfills refuse them.
   */
  aggregation?: AggregationSpec;
}

/** A resolved aggregation view major. */
export interface ResolvedAggregationView extends ResolvedView {
  aggregation: AggregationSpec;
}

/** Where a push goes: the view majors it writes and the column holding event times. */
export interface PushTarget {
  name: string;
  views: readonly ResolvedView[];
  /** Aggregation views the pushed rows become events of (absent or empty: none). */
  aggregationViews?: readonly ResolvedAggregationView[];
  timestampField: string;
}

/** Feast's default timestamp column of a push. */
export const DEFAULT_TIMESTAMP_FIELD = "event_timestamp";

/** A feature reference resolved to its view major and position. */
export interface ResolvedFeatureRef {
  /** The reference as written: `view:feature` or `view@2:feature`. */
  ref: string;
  view: ResolvedView;
  feature: ResolvedFeature;
  /** Position of the feature in `view.features`. */
  index: number;
}

/**
 * Bytes the resolved lists of request feature lists may take, together. Requests choose the
 * lists, so the cache is bounded by size, not by count: a count bound lets long lists multiply it.
 */
export const REF_LIST_CACHE_BYTES = 4 * 1024 * 1024;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const SERVICE_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const FEATURE_REF = /^([A-Za-z_][A-Za-z0-9_]*)(?:@(0|[1-9]\d{0,8}))?:([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * The validated feature repo: entities, every registered major of every view, and feature
 * services. Several majors of a view live side by side; `view:feature` means the latest
 * major and `view@2:feature` pins one, so two models can read incompatible versions of the
 * same feature at once.
 */
export class FeatureRegistry {
  readonly project: string;
  /** What it was built from (definitionHash names it). */
  readonly definition: FeatureRepoDefinition;
  private readonly entitiesByName = new Map<string, ResolvedEntity>();
  /** view name → majors, ascending. */
  private readonly viewsByName = new Map<string, ResolvedView[]>();
  /** aggregation view name → majors, ascending. */
  private readonly aggregationsByName = new Map<string, ResolvedAggregationView[]>();
  private readonly services = new Map<string, readonly ResolvedFeatureRef[]>();
  private readonly pushSources = new Map<string, PushTarget>();
  /** Tables captured by Debezium, with the view majors each writes (cdc-sources.ts). */
  private readonly cdc: ReadonlyMap<string, ResolvedCdcSource>;
  /** Only references that resolved: bounded by the registry's own size, not by requests. */
  private readonly refCache = new Map<string, ResolvedFeatureRef>();
  private readonly listCache = new LRUCache<string, readonly ResolvedFeatureRef[]>({
    maxSize: REF_LIST_CACHE_BYTES,
    sizeCalculation: refListBytes,
  });

  constructor(repo: FeatureRepoDefinition) {
    this.project = checkName(repo.project, "project", IDENTIFIER);
    this.definition = repo;
    for (const entity of repo.entities) this.addEntity(entity);
    for (const view of repo.views) this.addView(view);
    const cdcNames = cdcSourceNames(repo);
    for (const view of repo.aggregationViews ?? []) this.addAggregationView(view, cdcNames);
    for (const majors of this.viewsByName.values()) majors.sort((a, b) => a.major - b.major);
    for (const majors of this.aggregationsByName.values()) {
      majors.sort((a, b) => a.major - b.major);
    }
    for (const service of repo.services ?? []) this.addService(service);
    for (const source of repo.pushSources ?? []) this.addPushSource(source);
    this.cdc = resolveCdcSources(repo.cdcSources, repo.views, (def) =>
      this.view(def.name, parseSemVer(def.version, `feature view ${def.name}`).major),
    );
  }

  /** The cdc sources, each with the view majors it writes (docs/sources.md). */
  cdcSources(): ResolvedCdcSource[] {
    return [...this.cdc.values()];
  }

  entities(): ResolvedEntity[] {
    return [...this.entitiesByName.values()];
  }

  /** Every registered feature view major (aggregation views are not among them). */
  views(): ResolvedView[] {
    return [...this.viewsByName.values()].flat();
  }

  /** Every registered aggregation view major. */
  aggregationViews(): ResolvedAggregationView[] {
    return [...this.aggregationsByName.values()].flat();
  }

  /** Whether `view` or `view@major` names an aggregation view (of any major). */
  isAggregationView(ref: string): boolean {
    return typeof ref === "string" && this.aggregationsByName.has(ref.split("@")[0]!);
  }

  /** An aggregation view by name (`view`, latest major) or `view@major`. */
  aggregationView(ref: string): ResolvedAggregationView {
    const at = typeof ref === "string" ? ref.indexOf("@") : -1;
    const name = at < 0 ? ref : ref.slice(0, at);
    const majors = this.aggregationsByName.get(name);
    const major = at < 0 ? undefined : Number(ref.slice(at + 1));
    const found =
      major === undefined ? majors?.[majors.length - 1] : majors?.find((v) => v.major === major);
    if (!found) {
      throw new StrataError(
        "STRATA_E_UNKNOWN_VIEW",
        `aggregation view ${show(ref)} does not exist${majors ? ` (registered majors: ${majors.map((v) => v.major).join(", ")})` : ""}`,
        { view: ref, known: [...this.aggregationsByName.keys()] },
      );
    }
    return found;
  }

  serviceNames(): string[] {
    return [...this.services.keys()];
  }

  /** The declared push sources' names (a view pushed to by its own name is not one). */
  pushSourceNames(): string[] {
    return [...this.pushSources.keys()];
  }

  /** A view by name, at a pinned major or the latest one. */
  view(name: string, major?: number): ResolvedView {
    const majors = this.viewsByName.get(name);
    if (!majors && this.aggregationsByName.has(name)) {
      throw new StrataError(
        "STRATA_E_AGGREGATION_VIEW_UNSUPPORTED",
        `${show(name)} is an aggregation view: its values are computed from events (push to it, or its source), never written or backfilled directly`,
        { view: name },
      );
    }
    if (!majors) {
      throw new StrataError("STRATA_E_UNKNOWN_VIEW", `feature view ${show(name)} does not exist`, {
        view: name,
        known: [...this.viewsByName.keys()],
      });
    }
    if (major === undefined) return majors[majors.length - 1]!;
    const found = majors.find((v) => v.major === major);
    if (!found) {
      throw new StrataError(
        "STRATA_E_UNKNOWN_VIEW",
        `feature view ${show(name)} has no major version ${major} (registered: ${majors.map((v) => v.major).join(", ")})`,
        { view: name, major, registered: majors.map((v) => v.major) },
      );
    }
    return found;
  }

  /** The view major, or undefined where view() would throw STRATA_E_UNKNOWN_VIEW. */
  findView(name: string, major: number): ResolvedView | undefined {
    return this.viewsByName.get(name)?.find((v) => v.major === major);
  }

  /** Resolves `view`, `view@2` to a view major (the form writes name their view by). */
  viewByRef(ref: string): ResolvedView {
    const at = ref.indexOf("@");
    if (at < 0) return this.view(ref);
    const major = Number(ref.slice(at + 1));
    if (!Number.isInteger(major) || major < 0) {
      throw new StrataError(
        "STRATA_E_UNKNOWN_VIEW",
        `view reference ${show(ref)} is not view or view@major`,
        {
          view: ref,
        },
      );
    }
    return this.view(ref.slice(0, at), major);
  }

  /** Resolves `view:feature` (latest major) or `view@major:feature`. Cached: the read path calls this per request. */
  resolveRef(ref: string): ResolvedFeatureRef {
    const cached = this.refCache.get(ref);
    if (cached) return cached;
    const match = typeof ref === "string" ? FEATURE_REF.exec(ref) : null;
    if (!match) {
      throw new StrataError(
        "STRATA_E_BAD_FEATURE_REF",
        `feature reference ${show(ref)} is not "view:feature" or "view@major:feature"`,
        { feature: ref },
      );
    }
    const major = match[2] === undefined ? undefined : Number(match[2]);
    const view = this.aggregationsByName.has(match[1]!)
      ? this.aggregationView(major === undefined ? match[1]! : `${match[1]!}@${major}`)
      : this.view(match[1]!, major);
    const index = view.featureIndex.get(match[3]!);
    if (index === undefined) {
      throw new StrataError(
        "STRATA_E_UNKNOWN_FEATURE",
        `feature ${show(match[3])} does not exist in view ${view.key} (reference ${show(ref)})`,
        { feature: ref, view: view.key, known: view.features.map((f) => f.name) },
      );
    }
    const resolved = { ref, view, feature: view.features[index]!, index };
    if (this.refCache.size < 100_000) this.refCache.set(ref, resolved);
    return resolved;
  }

  /**
   * Resolves every reference, reporting all the bad ones in one error rather than the first.
   * The same list of references gives the same (frozen) array back, so that per-request work
   * derived from it (grouping by view, response names) can be cached on its identity; the
   * lists are kept within REF_LIST_CACHE_BYTES, least recently used first out.
   */
  resolveRefs(refs: readonly string[]): readonly ResolvedFeatureRef[] {
    const key = refs.join("\u0001");
    const cached = this.listCache.get(key);
    if (cached) return cached;
    const resolved = Object.freeze(this.resolveEach(refs));
    this.listCache.set(key, resolved);
    return resolved;
  }

  private resolveEach(refs: readonly string[]): ResolvedFeatureRef[] {
    const resolved: ResolvedFeatureRef[] = [];
    const errors: StrataError[] = [];
    for (const ref of refs) {
      try {
        resolved.push(this.resolveRef(ref));
      } catch (error) {
        if (!(error instanceof StrataError)) throw error;
        errors.push(error);
      }
    }
    if (errors.length === 1) throw errors[0]!;
    if (errors.length > 1) {
      throw new StrataError(errors[0]!.code, errors.map((e) => e.message).join("; "), {
        errors: errors.map((e) => e.toJSON()),
      });
    }
    return resolved;
  }

  /** The features a model consumes through a feature service, pinned as the service says. */
  service(name: string): readonly ResolvedFeatureRef[] {
    const refs = this.services.get(name);
    if (!refs) {
      throw new StrataError(
        "STRATA_E_UNKNOWN_FEATURE_SERVICE",
        `feature service ${show(name)} does not exist`,
        { feature_service: name, known: this.serviceNames() },
      );
    }
    return refs;
  }

  /** A push source by name, or a view pushed to directly (`view`, `view@major`). */
  pushTarget(name: string): PushTarget {
    const source = this.pushSources.get(name);
    if (source) return source;
    const viewName = typeof name === "string" ? name.split("@")[0]! : "";
    if (this.aggregationsByName.has(viewName)) {
      const aggregationViews = [this.aggregationView(name)];
      return { name, views: [], aggregationViews, timestampField: DEFAULT_TIMESTAMP_FIELD };
    }
    if (this.viewsByName.has(viewName)) {
      return { name, views: [this.viewByRef(name)], timestampField: DEFAULT_TIMESTAMP_FIELD };
    }
    throw new StrataError(
      "STRATA_E_UNKNOWN_PUSH_SOURCE",
      `push source ${show(name)} does not exist, and no feature view has that name`,
      { push_source_name: name, known: [...this.pushSources.keys()] },
    );
  }

  private addEntity(entity: EntityDefinition): void {
    const name = checkName(entity.name, "entity", IDENTIFIER);
    if (this.entitiesByName.has(name)) {
      throw new StrataError(
        "STRATA_E_DUPLICATE_ENTITY",
        `entity ${show(name)} is registered twice`,
        { entity: name },
      );
    }
    const joinKeys = Object.entries(entity.joinKeys ?? {}).map(([key, type]) => {
      checkName(key, `join key of entity ${name}`, IDENTIFIER);
      if (!isJoinKeyType(type)) {
        throw new StrataError(
          "STRATA_E_UNKNOWN_TYPE",
          `join key ${show(key)} of entity ${show(name)} has type ${show(type)}; join keys are int32, int64 or string`,
          { entity: name, joinKey: key, type },
        );
      }
      return { name: key, type };
    });
    if (joinKeys.length === 0) {
      throw new StrataError("STRATA_E_BAD_REGISTRY", `entity ${show(name)} has no join keys`, {
        entity: name,
      });
    }
    this.entitiesByName.set(name, { name, joinKeys });
  }

  private addView(def: FeatureViewDefinition): void {
    const name = checkName(def.name, "feature view", IDENTIFIER);
    const version = parseSemVer(def.version, `feature view ${name}`);
    const majors = this.viewsByName.get(name) ?? [];
    const clash = majors.find((v) => v.major === version.major);
    if (clash) {
      throw new StrataError(
        "STRATA_E_DUPLICATE_VIEW",
        `feature view ${name} major ${version.major} is registered twice (${formatSemVer(clash.version)} and ${formatSemVer(version)}); minor and patch versions share the major's storage, so register only the current one`,
        { view: name, major: version.major },
      );
    }
    const { entities, joinKeys, seenKeys } = this.resolveEntities(
      "feature view",
      name,
      version.major,
      def.entities,
    );
    const features = this.checkFeatures(name, def.features);
    for (const feature of features) refuseColumnClash(name, feature.name, seenKeys);
    if (!Number.isFinite(def.maxAgeMs) || def.maxAgeMs <= 0) {
      throw new StrataError(
        "STRATA_E_BAD_REGISTRY",
        `feature view ${name}: maxAgeMs must be a positive number of milliseconds, not ${show(def.maxAgeMs)}`,
        { view: name },
      );
    }
    const criticality = def.criticality ?? "standard";
    if (criticality !== "critical" && criticality !== "standard") {
      throw new StrataError(
        "STRATA_E_BAD_REGISTRY",
        `feature view ${name}: criticality is "critical" or "standard", not ${show(criticality)}`,
        { view: name },
      );
    }
    majors.push({
      name,
      major: version.major,
      version,
      key: `${name}@${version.major}`,
      entities,
      entitySet: entities.map((e) => e.name).join(","),
      joinKeys,
      features,
      featureIndex: new Map(features.map((f, i) => [f.name, i])),
      maxAgeMs: def.maxAgeMs,
      criticality,
    });
    this.viewsByName.set(name, majors);
  }

  private addAggregationView(
    def: AggregationViewDefinition,
    cdcNames: ReadonlySet<string> | undefined,
  ): void {
    const name = checkName(def.name, "aggregation view", IDENTIFIER);
    if (this.viewsByName.has(name)) {
      throw new StrataError(
        "STRATA_E_DUPLICATE_VIEW",
        `aggregation view ${name} has the name of a feature view; the two share one name space`,
        { view: name },
      );
    }
    const version = parseSemVer(def.version, `aggregation view ${name}`);
    const majors = this.aggregationsByName.get(name) ?? [];
    if (majors.some((v) => v.major === version.major)) {
      throw new StrataError(
        "STRATA_E_DUPLICATE_VIEW",
        `aggregation view ${name} major ${version.major} is registered twice`,
        { view: name, major: version.major },
      );
    }
    const key = `${name}@${version.major}`;
    const { entities, joinKeys } = this.resolveEntities(
      "aggregation view",
      name,
      version.major,
      def.entities,
    );
    const aggregation = resolveAggregationSpec(def, key, joinKeys, cdcNames);
    const features = aggregation.aggregations.map((a) => a.output);
    majors.push({
      name,
      major: version.major,
      version,
      key,
      entities,
      entitySet: entities.map((e) => e.name).join(","),
      joinKeys,
      features,
      featureIndex: new Map(features.map((f, i) => [f.name, i])),
      // Aggregates are as fresh as their last event: age is the window's business, not maxAge's.
      maxAgeMs: Number.POSITIVE_INFINITY,
      criticality: "standard",
      aggregation,
    });
    this.aggregationsByName.set(name, majors);
  }

  private resolveEntities(
    what: string,
    name: string,
    major: number,
    refs: (string | EntityDefinition)[] | undefined,
  ): { entities: ResolvedEntity[]; joinKeys: JoinKey[]; seenKeys: Set<string> } {
    const entities = (refs ?? []).map((ref) => {
      const entityName = typeof ref === "string" ? ref : ref?.name;
      const entity = this.entitiesByName.get(entityName);
      if (!entity) {
        throw new StrataError(
          "STRATA_E_UNKNOWN_ENTITY",
          `${what} ${name}@${major} names entity ${show(entityName)}, which is not registered`,
          { view: name, entity: entityName, known: [...this.entitiesByName.keys()] },
        );
      }
      return entity;
    });
    if (entities.length === 0) {
      throw new StrataError("STRATA_E_BAD_REGISTRY", `${what} ${name} names no entities`, {
        view: name,
      });
    }
    const joinKeys = entities.flatMap((e) => e.joinKeys);
    const seenKeys = new Set<string>();
    for (const key of joinKeys) {
      if (seenKeys.has(key.name)) {
        throw new StrataError(
          "STRATA_E_BAD_REGISTRY",
          `${what} ${name}: join key ${show(key.name)} appears in two of its entities`,
          { view: name, joinKey: key.name },
        );
      }
      seenKeys.add(key.name);
    }
    return { entities, joinKeys, seenKeys };
  }

  private checkFeatures(
    view: string,
    features: FeatureViewDefinition["features"] | undefined,
  ): ResolvedFeature[] {
    const entries: [string, unknown][] = Array.isArray(features)
      ? features.map((f) => [f?.name, f?.type])
      : Object.entries(features ?? {});
    if (entries.length === 0) {
      throw new StrataError("STRATA_E_BAD_REGISTRY", `feature view ${view} declares no features`, {
        view,
      });
    }
    const seen = new Set<string>();
    return entries.map(([featureName, type]) => {
      checkName(featureName, `feature of view ${view}`, IDENTIFIER);
      // Names that differ only by case would clash in case-insensitive clients.
      const folded = featureName.toLowerCase();
      if (seen.has(folded)) {
        throw new StrataError(
          "STRATA_E_DUPLICATE_FEATURE",
          `feature view ${view} declares feature ${show(featureName)} twice`,
          { view, feature: featureName },
        );
      }
      seen.add(folded);
      if (!isFeatureType(type)) {
        throw new StrataError(
          "STRATA_E_UNKNOWN_TYPE",
          `feature ${view}:${featureName} has type ${show(type)}; types are int32, int64, float32, float64, string, bytes, bool, unix_timestamp, or a list of one (int64[])`,
          { view, feature: featureName, type },
        );
      }
      return { name: featureName, type, codec: codecFor(type) };
    });
  }

  private addService(def: FeatureServiceDefinition): void {
    const name = checkName(def.name, "feature service", SERVICE_NAME);
    if (this.services.has(name)) {
      throw new StrataError(
        "STRATA_E_DUPLICATE_SERVICE",
        `feature service ${show(name)} is registered twice`,
        { feature_service: name },
      );
    }
    if (!Array.isArray(def.features) || def.features.length === 0) {
      throw new StrataError("STRATA_E_BAD_REGISTRY", `feature service ${name} lists no features`, {
        feature_service: name,
      });
    }
    const refs = def.features.map((ref): ResolvedFeatureRef => {
      try {
        return this.resolveRef(ref);
      } catch (error) {
        if (error instanceof StrataError) {
          throw new StrataError(error.code, `feature service ${name}: ${error.message}`, {
            ...error.details,
            feature_service: name,
          });
        }
        throw error;
      }
    });
    this.services.set(name, Object.freeze(refs));
  }

  private addPushSource(def: PushSourceDefinition): void {
    const name = checkName(def.name, "push source", SERVICE_NAME);
    if (
      this.pushSources.has(name) ||
      this.viewsByName.has(name) ||
      this.aggregationsByName.has(name)
    ) {
      throw new StrataError(
        "STRATA_E_BAD_REGISTRY",
        `push source ${show(name)} is registered twice, or shares its name with a feature view`,
        { push_source: name },
      );
    }
    if (!Array.isArray(def.views) || def.views.length === 0) {
      throw new StrataError("STRATA_E_BAD_REGISTRY", `push source ${name} names no views`, {
        push_source: name,
      });
    }
    const views = def.views
      .filter((ref) => !this.isAggregationView(ref))
      .map((ref) => this.viewByRef(ref));
    const aggregationViews = def.views
      .filter((ref) => this.isAggregationView(ref))
      .map((ref) => this.aggregationView(ref));
    const timestampField = checkName(
      def.timestampField ?? DEFAULT_TIMESTAMP_FIELD,
      `timestamp field of push source ${name}`,
      IDENTIFIER,
    );
    this.pushSources.set(name, { name, views, aggregationViews, timestampField });
  }
}

/**
 * Estimated bytes of a cached list: its key, its array, and what callers derive from it while
 * it lives (WeakMaps keyed by the list: view groups, join keys, response names and their JSON),
 * each about as long as the key or a few words per reference.
 */
function refListBytes(refs: readonly ResolvedFeatureRef[], key: string): number {
  return 256 + 6 * key.length + 64 * refs.length;
}

/**
 * A view's offline table (shared/offline/connect-record.ts) has a column per join key, per
 * feature, and its own `event_timestamp` and `strata_*` columns, and a training set puts join
 * keys and features side by side: a feature named like any of them would make one column
 * mean two things (and stop the Iceberg sink, which refuses a record with a field twice).
 * Compared case-folded, as case-insensitive engines (Spark, Athena) read column names.
 */
function refuseColumnClash(view: string, feature: string, joinKeys: ReadonlySet<string>): void {
  const folded = feature.toLowerCase();
  const clash = [...joinKeys].find((key) => key.toLowerCase() === folded)
    ? "a join key of the view"
    : folded === "event_timestamp" || folded.startsWith("strata_")
      ? "a column the offline store adds (event_timestamp, strata_*)"
      : undefined;
  if (clash) {
    throw new StrataError(
      "STRATA_E_BAD_REGISTRY",
      `feature view ${view}: feature ${show(feature)} has the name of ${clash}; rename the feature`,
      { view, feature },
    );
  }
}

/** The repo's CDC source names, when it declares any (their own checks are the CDC part's). */
function cdcSourceNames(repo: FeatureRepoDefinition): ReadonlySet<string> | undefined {
  if (!Array.isArray(repo.cdcSources)) return undefined;
  return new Set(repo.cdcSources.map((source) => source?.name));
}

function checkName(value: unknown, what: string, pattern: RegExp): string {
  if (typeof value !== "string" || !pattern.test(value)) {
    throw new StrataError(
      "STRATA_E_INVALID_NAME",
      `${what} name ${show(value)} is not a valid identifier (letters, digits and _, not starting with a digit)`,
      { name: value },
    );
  }
  return value;
}

import { definitionHash } from "../registry/definition-hash.js";
import type { FeatureRepoDefinition } from "../registry/definitions.js";
import {
  FeatureRegistry,
  type ResolvedFeatureRef,
  type ResolvedView,
} from "../registry/feature-registry.js";
import { formatSemVer } from "../registry/semver.js";
import { flagReuse, type HistoricalDefinition } from "./registry-history.js";

/** One difference between the published registry and a new one. */
export interface PlanChange {
  action: "add" | "change" | "remove";
  kind: "entity" | "view" | "feature" | "service" | "push-source" | "definitions";
  /** What changed: `driver`, `driver_stats@1`, `driver_stats@1:trips`, a service or push source. */
  subject: string;
  /** What the change is, for people: `int64 → string`, `maxAgeMs 60000 → 3600000`. */
  detail: string;
  /**
   * Why the change is incompatible (stored data or a model reading a feature service would
   * be wrong), one reason per line; absent when it is compatible.
   */
  incompatible?: string[];
}

/**
 * The changes from `before` (the published definitions; undefined when none is published) to
 * `after`. Both must build a FeatureRegistry (they throw its errors otherwise). Empty exactly
 * when both have the same definitionHash. A change is incompatible when it changes a feature's
 * type or a major's join keys (stored values or keys would be read wrongly), changes a major a
 * feature service pins (`view@N:feature`) in its keys or types, removes a feature, major or
 * service a service reads,
 * or changes what a service reads (an unpinned `view:feature` following a new latest major).
 * With `history` (earlier published registries), re-adding a major or feature that one of them
 * had with other keys or another type is incompatible too (flagReuse).
 */
export function diffDefinitions(
  before: FeatureRepoDefinition | undefined,
  after: FeatureRepoDefinition,
  history: readonly HistoricalDefinition[] = [],
): PlanChange[] {
  const next = new FeatureRegistry(after);
  const previous = before === undefined ? undefined : new FeatureRegistry(before);
  const changes = previous ? diffRegistries(previous, next) : diffRegistries(undefined, next);
  flagReuse(changes, history, next);
  if (
    changes.length === 0 &&
    before !== undefined &&
    definitionHash(before) !== definitionHash(after)
  ) {
    changes.push({
      action: "change",
      kind: "definitions",
      subject: after.project,
      detail: "descriptions, order or form changed; nothing served or stored changes",
    });
  }
  if (changes.length === 0 && before === undefined) {
    changes.push({
      action: "add",
      kind: "definitions",
      subject: after.project,
      detail: "an empty repo",
    });
  }
  return changes;
}

function diffRegistries(before: FeatureRegistry | undefined, after: FeatureRegistry): PlanChange[] {
  const usage = serviceUsage(before);
  return [
    ...diffEntities(before, after),
    ...diffViews(before, after, usage),
    ...diffServices(before, after),
    ...diffPushSources(before, after),
  ];
}

/** What the published services read: per view major, per feature, and which majors they pin. */
interface ServiceUsage {
  /** `view@major:feature` → services reading it. */
  readers: Map<string, string[]>;
  /** `view@major` → services pinning it (`view@major:feature`). */
  pinners: Map<string, string[]>;
}

function serviceUsage(registry: FeatureRegistry | undefined): ServiceUsage {
  const usage: ServiceUsage = { readers: new Map(), pinners: new Map() };
  for (const name of registry?.serviceNames() ?? []) {
    for (const ref of registry!.service(name)) {
      pushOnce(usage.readers, resolvedKey(ref), name);
      if (ref.ref.includes("@")) pushOnce(usage.pinners, ref.view.key, name);
    }
  }
  return usage;
}

function diffEntities(before: FeatureRegistry | undefined, after: FeatureRegistry): PlanChange[] {
  const changes: PlanChange[] = [];
  const old = new Map(before?.entities().map((e) => [e.name, e]));
  const now = new Map(after.entities().map((e) => [e.name, e]));
  for (const [name, entity] of now) {
    const was = old.get(name);
    const keys = joinKeysText(entity.joinKeys);
    if (!was) {
      changes.push({ action: "add", kind: "entity", subject: name, detail: `join keys ${keys}` });
    } else if (joinKeysText(was.joinKeys) !== keys) {
      changes.push({
        action: "change",
        kind: "entity",
        subject: name,
        detail: `join keys ${joinKeysText(was.joinKeys)} → ${keys}`,
      });
    }
  }
  for (const [name, entity] of old) {
    if (!now.has(name)) {
      changes.push({
        action: "remove",
        kind: "entity",
        subject: name,
        detail: `join keys ${joinKeysText(entity.joinKeys)}`,
      });
    }
  }
  return changes;
}

function diffViews(
  before: FeatureRegistry | undefined,
  after: FeatureRegistry,
  usage: ServiceUsage,
): PlanChange[] {
  const changes: PlanChange[] = [];
  const old = new Map(before?.views().map((v) => [v.key, v]));
  const now = new Map(after.views().map((v) => [v.key, v]));
  for (const [key, view] of now) {
    const was = old.get(key);
    if (was) changes.push(...diffMajor(was, view, usage));
    else changes.push({ action: "add", kind: "view", subject: key, detail: describeView(view) });
  }
  for (const [key, view] of old) {
    if (now.has(key)) continue;
    const readers = [
      ...new Set(view.features.flatMap((f) => usage.readers.get(`${key}:${f.name}`) ?? [])),
    ];
    changes.push({
      action: "remove",
      kind: "view",
      subject: key,
      detail: describeView(view),
      ...incompatible(readers.map((s) => `feature service ${s} reads it`)),
    });
  }
  return changes;
}

function diffMajor(was: ResolvedView, view: ResolvedView, usage: ServiceUsage): PlanChange[] {
  const changes: PlanChange[] = [];
  const key = view.key;
  const pinnedBy = usage.pinners.get(key) ?? [];
  const pinned = pinnedBy.map(
    (s) =>
      `feature service ${s} pins ${key}: a pinned major's keys and feature types must not change (add a new major instead)`,
  );
  const change = (detail: string, reasons: string[] = []): void => {
    changes.push({
      action: "change",
      kind: "view",
      subject: key,
      detail,
      ...incompatible(reasons),
    });
  };
  if (formatSemVer(was.version) !== formatSemVer(view.version)) {
    change(`version ${formatSemVer(was.version)} → ${formatSemVer(view.version)}`);
  }
  const oldKeys = `${was.entitySet} ${joinKeysText(was.joinKeys)}`;
  const newKeys = `${view.entitySet} ${joinKeysText(view.joinKeys)}`;
  if (oldKeys !== newKeys) {
    change(`entities and join keys ${oldKeys} → ${newKeys}`, [
      `its rows are stored under the old entities' keys, which the new ones would not find (add a new major instead)`,
      ...pinned,
    ]);
  }
  if (was.maxAgeMs !== view.maxAgeMs) change(`maxAgeMs ${was.maxAgeMs} → ${view.maxAgeMs}`);
  if (was.criticality !== view.criticality) {
    change(`criticality ${was.criticality} → ${view.criticality}`);
  }
  const oldFeatures = new Map(was.features.map((f) => [f.name, f]));
  const newFeatures = new Map(view.features.map((f) => [f.name, f]));
  for (const [name, feature] of newFeatures) {
    const before = oldFeatures.get(name);
    const subject = `${key}:${name}`;
    if (!before) {
      // A minor version: services pinning the major read what they read before, and
      // consumers of an older minor ignore the new feature (docs/registry.md).
      changes.push({ action: "add", kind: "feature", subject, detail: feature.type });
    } else if (before.type !== feature.type) {
      changes.push({
        action: "change",
        kind: "feature",
        subject,
        detail: `${before.type} → ${feature.type}`,
        ...incompatible([
          `type change within a major: values stored as ${before.type} would be read as ${feature.type} (add a new major instead)`,
          ...pinned,
        ]),
      });
    }
  }
  for (const [name, feature] of oldFeatures) {
    if (newFeatures.has(name)) continue;
    const subject = `${key}:${name}`;
    const readers = (usage.readers.get(subject) ?? []).map((s) => `feature service ${s} reads it`);
    changes.push({
      action: "remove",
      kind: "feature",
      subject,
      detail: feature.type,
      ...incompatible(readers),
    });
  }
  const common = (features: ResolvedView["features"]) =>
    features.filter((f) => oldFeatures.has(f.name) && newFeatures.has(f.name)).map((f) => f.name);
  if (common(was.features).join(",") !== common(view.features).join(",")) {
    change(
      `feature order ${common(was.features).join(", ")} → ${common(view.features).join(", ")}`,
    );
  }
  return changes;
}

function diffServices(before: FeatureRegistry | undefined, after: FeatureRegistry): PlanChange[] {
  const changes: PlanChange[] = [];
  const old = new Set(before?.serviceNames());
  for (const name of after.serviceNames()) {
    const refs = after.service(name);
    if (!old.has(name)) {
      changes.push({ action: "add", kind: "service", subject: name, detail: refsText(refs) });
      continue;
    }
    changes.push(...diffService(name, before!.service(name), refs));
  }
  for (const name of old) {
    if (after.serviceNames().includes(name)) continue;
    changes.push({
      action: "remove",
      kind: "service",
      subject: name,
      detail: refsText(before!.service(name)),
      incompatible: [`models reading it would get STRATA_E_UNKNOWN_FEATURE_SERVICE`],
    });
  }
  return changes;
}

function diffService(
  name: string,
  was: readonly ResolvedFeatureRef[],
  now: readonly ResolvedFeatureRef[],
): PlanChange[] {
  const changes: PlanChange[] = [];
  const change = (detail: string, reasons: string[] = []): void => {
    changes.push({
      action: "change",
      kind: "service",
      subject: name,
      detail,
      ...incompatible(reasons),
    });
  };
  const oldByRef = new Map(was.map((r) => [r.ref, r]));
  const moved = new Set<string>();
  for (const ref of now) {
    const before = oldByRef.get(ref.ref);
    if (before && resolvedKey(before) !== resolvedKey(ref)) {
      moved.add(resolvedKey(before)).add(resolvedKey(ref));
      change(`${ref.ref} reads ${resolvedKey(ref)} instead of ${resolvedKey(before)}`, [
        `models reading ${name} would get ${resolvedKey(ref)}'s values where they got ${resolvedKey(before)}'s (pin ${resolvedKey(before)} to keep them)`,
      ]);
    }
  }
  const oldKeys = was.map(resolvedKey).filter((k) => !moved.has(k));
  const newKeys = now.map(resolvedKey).filter((k) => !moved.has(k));
  for (const key of newKeys) if (!oldKeys.includes(key)) change(`reads ${key} too`);
  for (const key of oldKeys) {
    if (!newKeys.includes(key))
      change(`no longer reads ${key}`, [`models reading ${name} would lose ${key}`]);
  }
  const common = (keys: string[], other: string[]) => keys.filter((k) => other.includes(k));
  const oldOrder = common(oldKeys, newKeys);
  const newOrder = common(newKeys, oldKeys);
  if (oldOrder.join(",") !== newOrder.join(",")) {
    change(`feature order ${oldOrder.join(", ")} → ${newOrder.join(", ")}`);
  }
  const written = (refs: readonly ResolvedFeatureRef[]) => refs.map((r) => r.ref).join(",");
  if (changes.length === 0 && written(was) !== written(now)) {
    change(`references ${refsText(was)} → ${refsText(now)} (the same features)`);
  }
  return changes;
}

function diffPushSources(
  before: FeatureRegistry | undefined,
  after: FeatureRegistry,
): PlanChange[] {
  const changes: PlanChange[] = [];
  const text = (registry: FeatureRegistry, name: string) => {
    const target = registry.pushTarget(name);
    return `to ${target.views.map((v) => v.key).join(", ")}, event time in ${target.timestampField}`;
  };
  const old = new Set(before ? before.pushSourceNames() : []);
  const now = after.pushSourceNames();
  for (const name of now) {
    if (!old.has(name)) {
      changes.push({
        action: "add",
        kind: "push-source",
        subject: name,
        detail: text(after, name),
      });
    } else if (text(before!, name) !== text(after, name)) {
      changes.push({
        action: "change",
        kind: "push-source",
        subject: name,
        detail: `${text(before!, name)} → ${text(after, name)}`,
      });
    }
  }
  for (const name of old) {
    if (!now.includes(name)) {
      changes.push({
        action: "remove",
        kind: "push-source",
        subject: name,
        detail: text(before!, name),
      });
    }
  }
  return changes;
}

function describeView(view: ResolvedView): string {
  const features = view.features.map((f) => `${f.name} ${f.type}`).join(", ");
  return `${formatSemVer(view.version)}, entities ${view.entitySet}, features ${features}, maxAgeMs ${view.maxAgeMs}, ${view.criticality}`;
}

function joinKeysText(keys: readonly { name: string; type: string }[]): string {
  return `(${keys.map((k) => `${k.name} ${k.type}`).join(", ")})`;
}

function refsText(refs: readonly ResolvedFeatureRef[]): string {
  return refs.map((r) => r.ref).join(", ");
}

function resolvedKey(ref: ResolvedFeatureRef): string {
  return `${ref.view.key}:${ref.feature.name}`;
}

function incompatible(reasons: string[]): { incompatible?: string[] } {
  return reasons.length > 0 ? { incompatible: reasons } : {};
}

function pushOnce(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key) ?? [];
  if (!list.includes(value)) list.push(value);
  map.set(key, list);
}

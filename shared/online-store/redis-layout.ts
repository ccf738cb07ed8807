/**
 * Names in Redis (see ../shared/design.md, "Redis layout"):
 * - entity hash          fs:{<project>:<entities>:<encoded key>}   (shared/key-codec.ts)
 * - feature field        <view>@<major>#<gen>:<feature>
 * - row version field    <view>@<major>#<gen>:_v
 * - row clock field      <view>@<major>#<gen>:_cv
 * - generation pointer   fs:{<project>}:gen:<view>@<major>
 * - seen clock           fs:{<project>}:seen (origin region -> highest HLC applied here)
 * - writing generations  fs:{<project>}:backfill:writing (view major -> "g1,g2": where live
 *                        records go while a backfill runs)
 * - backfill state       fs:{<project>}:backfill:state:<view>@<major> (JSON)
 * - backfill lease       fs:{<project>}:backfill:lease:<view>@<major> (owner token, PX)
 * - backfill epochs      fs:{<project>}:backfill:epoch (INCR)
 * - generation counter   fs:{<project>}:backfill:gens:<view>@<major> (highest allocated)
 * - loaded rows          fs:{<project>}:backfill:loaded:<view>@<major> (bitmap of row numbers)
 * - populated marker     fs:{<project>}:populated:<view>@<major> (generation holding its history)
 * Every name of a project's metadata has the hash tag {<project>}: one slot, so one Lua call can
 * check a backfill's lease and flip the pointer atomically on Redis Cluster too.
 * View and feature names are identifiers, so `@`, `#` and `:` separate them unambiguously.
 */
export const VERSION_FIELD = "_v";
export const CLOCK_FIELD = "_cv";

export function fieldPrefix(viewKey: string, generation: number): string {
  return `${viewKey}#${generation}:`;
}

export function generationPointerKey(project: string, viewKey: string): string {
  return `fs:{${project}}:gen:${viewKey}`;
}

export function seenClockKey(project: string): string {
  return `fs:{${project}}:seen`;
}

/** The backfill keys of a project's metadata slot (docs/backfill.md, "State"). */
export const backfillKeys = {
  writing: (project: string) => `fs:{${project}}:backfill:writing`,
  state: (project: string, viewKey: string) => `fs:{${project}}:backfill:state:${viewKey}`,
  lease: (project: string, viewKey: string) => `fs:{${project}}:backfill:lease:${viewKey}`,
  epoch: (project: string) => `fs:{${project}}:backfill:epoch`,
  generations: (project: string, viewKey: string) => `fs:{${project}}:backfill:gens:${viewKey}`,
  loaded: (project: string, viewKey: string) => `fs:{${project}}:backfill:loaded:${viewKey}`,
  populated: (project: string, viewKey: string) => `fs:{${project}}:populated:${viewKey}`,
};

/** The writing-generations hash's value: generation numbers joined by `,`. */
export function parseGenerationList(text: string): number[] {
  return text
    .split(",")
    .filter((part) => part !== "")
    .map(Number)
    .filter((n) => Number.isSafeInteger(n) && n >= 0);
}

/** A view with no pointer yet reads and writes generation 0. */
export const INITIAL_GENERATION = 0;

/** The hash fields of one view major in one generation. */
export interface RowFields {
  prefix: string;
  /**
   * The prefix and the view's feature layout (names and types, in order): what the hot cache
   * keys a decoded row by. Registries whose view has the same layout share cached rows; a
   * registry swapped in with another layout never reads a row decoded for the old one.
   */
  cacheKey: string;
  version: string;
  clock: string;
  /** In the view's feature order. */
  features: string[];
}

const rowFieldsCache = new WeakMap<object, Map<number, RowFields>>();

/**
 * Field names of a view's row in a generation, built once: every written and every
 * fetched row needs them, and a dozen string concatenations per row add up.
 */
export function rowFields(
  view: { key: string; features: readonly { name: string; type?: string }[] },
  generation: number,
): RowFields {
  let byGeneration = rowFieldsCache.get(view);
  if (!byGeneration) rowFieldsCache.set(view, (byGeneration = new Map<number, RowFields>()));
  let fields = byGeneration.get(generation);
  if (!fields) {
    const prefix = fieldPrefix(view.key, generation);
    fields = {
      prefix,
      cacheKey: `${prefix}${layoutId(view.features)}`,
      version: prefix + VERSION_FIELD,
      clock: prefix + CLOCK_FIELD,
      features: view.features.map((feature) => prefix + feature.name),
    };
    byGeneration.set(generation, fields);
  }
  return fields;
}

/** Feature layouts seen by this process, numbered: a few per registry, never freed. */
const layoutIds = new Map<string, number>();

function layoutId(features: readonly { name: string; type?: string }[]): number {
  const layout = features.map((f) => `${f.name}:${f.type ?? ""}`).join(",");
  let id = layoutIds.get(layout);
  if (id === undefined) layoutIds.set(layout, (id = layoutIds.size));
  return id;
}

const subsetCache = new WeakMap<RowFields, Map<string, RowFields>>();

/**
 * The fields of some of a row's features (positions in the view's feature order), built once
 * per distinct subset: the CAS script sends each as its own shape, so a write that carries
 * fewer features than the view leaves the others as they are stored.
 */
export function rowSubsetFields(fields: RowFields, positions: readonly number[]): RowFields {
  let subsets = subsetCache.get(fields);
  if (!subsets) subsetCache.set(fields, (subsets = new Map<string, RowFields>()));
  const id = positions.join(",");
  let subset = subsets.get(id);
  if (!subset) {
    subset = { ...fields, features: positions.map((i) => fields.features[i]!) };
    subsets.set(id, subset);
  }
  return subset;
}

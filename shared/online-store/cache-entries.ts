/**
 * What the hot cache holds, keyed by Redis key, so that one invalidation from Redis drops
 * exactly what that key's change made stale.
 */

/** One view-generation row of one entity, decoded. `version` null: the row does not exist. */
export interface CachedRow {
  version: string | null;
  eventTsMs: number;
  /** When it was read from Redis (the store's clock): the age a degraded read reports and bounds. */
  fetchedAtMs: number;
  /** Decoded values in the view's feature order; undefined where the field is absent. */
  values: unknown[];
  /** Each value's JSON text when its stored text is JSON already (see ValueCodec.json). */
  jsonTexts: (string | undefined)[];
}

export interface EntityEntry {
  kind: "entity";
  /**
   * By RowFields.cacheKey: the field prefix `<view>@<major>#<gen>:` and the view's feature
   * layout, since a row is decoded in the feature order and types of the registry it was read
   * with (a swapped registry may add, drop or retype a view's features).
   */
  rows: Map<string, CachedRow>;
}

export interface PointerEntry {
  kind: "pointer";
  generation: number;
  /** When it was read from Redis (the store's clock). */
  fetchedAtMs: number;
}

export type CacheEntry = EntityEntry | PointerEntry;

/**
 * Monotonic merge for concurrent fills of one entity: each row keeps the higher version, so
 * the cache never replaces a row with an older one. Encoded versions compare as strings
 * (fixed-width hex then an ASCII region); null (absent) is lower than any version. The same
 * version read again replaces the row, so that its `fetchedAtMs` says when it was last seen.
 */
export function mergeEntries(cached: CacheEntry, fetched: CacheEntry): CacheEntry {
  if (cached.kind !== "entity" || fetched.kind !== "entity") return fetched;
  const rows = new Map(cached.rows);
  for (const [prefix, row] of fetched.rows) {
    const current = rows.get(prefix);
    if (
      !current ||
      isNewer(row.version, current.version) ||
      (row.version === current.version && row.fetchedAtMs > current.fetchedAtMs)
    )
      rows.set(prefix, row);
  }
  return { kind: "entity", rows };
}

function isNewer(candidate: string | null, current: string | null): boolean {
  if (candidate === null) return false;
  return current === null || candidate > current;
}

/** Rough bytes of an entry, for a byte-bounded cache: key, fields and values as text. */
export function estimateEntryBytes(key: string, entry: object): number {
  const e = entry as CacheEntry;
  if (e.kind === "pointer") return key.length * 2 + 16;
  let bytes = key.length * 2 + 64;
  for (const [prefix, row] of e.rows) {
    bytes += prefix.length * 2 + 48;
    for (const text of row.jsonTexts) bytes += text === undefined ? 8 : text.length * 2 + 24;
    for (const value of row.values) {
      bytes +=
        typeof value === "string"
          ? value.length * 2 + 16
          : value instanceof Uint8Array
            ? value.byteLength + 32
            : Array.isArray(value)
              ? value.length * 16 + 32
              : 16;
    }
  }
  return bytes;
}

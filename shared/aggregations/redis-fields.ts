/**
 * Field names of aggregation state inside the entity's hash (docs/aggregations.md, "Storage").
 * Aggregation views have one generation, 0 (backfill refuses them), so every field of view
 * major `<view>@<major>` starts `<view>@<major>#0:`.
 */

/** The generation every aggregation view major lives in. */
export const AGGREGATION_GENERATION = 0;

/** `<view>@<major>#0:`, the prefix of every field of the view major. */
export function aggregationPrefix(viewKey: string): string {
  return `${viewKey}#${AGGREGATION_GENERATION}:`;
}

/** The watermark field: highest applied event time; its presence means "the entity has state". */
export function watermarkField(viewKey: string): string {
  return `${aggregationPrefix(viewKey)}_wm`;
}

/** The last applied offset of one source partition. */
export function offsetField(viewKey: string, sourceTopic: string, partition: number): string {
  return `${aggregationPrefix(viewKey)}_o:${sourceTopic}:${partition}`;
}

/** Tile k of an aggregation (count, sum, min, max, last_n). */
export function tileField(viewKey: string, aggregation: string, k: number): string {
  return `${aggregationPrefix(viewKey)}${aggregation}:${k}`;
}

/** The two fields of a mean's tile k: its count and its sum. */
export function meanTileFields(
  viewKey: string,
  aggregation: string,
  k: number,
): { count: string; sum: string } {
  const base = tileField(viewKey, aggregation, k);
  return { count: `${base}:c`, sum: `${base}:s` };
}

/**
 * The time arithmetic of rolling windows (docs/aggregations.md). An event falls in tile
 * `k = floor(eventTsMs / tileMs)`; a read at time t of a window W covers the W/T tiles
 * ending with t's own tile, so the window is between W - T and W long. The online read path,
 * the apply script (lua/aggregate-apply.lua) and the offline training sets use these rules.
 */

/** The tile an event time falls in. */
export function tileIndex(eventTsMs: number, tileMs: number): number {
  return Math.floor(eventTsMs / tileMs);
}

/** The tiles a read at `nowMs` covers, both ends included: `last - W/T < k <= last`. */
export interface TileRange {
  first: number;
  last: number;
}

export function windowTiles(nowMs: number, windowMs: number, tileMs: number): TileRange {
  const last = tileIndex(nowMs, tileMs);
  return { first: last - windowMs / tileMs + 1, last };
}

/** The earliest event time a read at `nowMs` counts: the start of the window's first tile. */
export function windowStartMs(nowMs: number, windowMs: number, tileMs: number): number {
  return windowTiles(nowMs, windowMs, tileMs).first * tileMs;
}

/**
 * Whether an event is too late to apply: older than the entity's watermark (highest event
 * time applied) minus the allowed lateness. An entity without a watermark takes anything.
 */
export function isTooLate(
  eventTsMs: number,
  watermarkMs: number | undefined,
  allowedLatenessMs: number,
): boolean {
  return watermarkMs !== undefined && eventTsMs < watermarkMs - allowedLatenessMs;
}

/**
 * Whether tile k of a window can be deleted once the watermark is `watermarkMs`: no read of a
 * window that includes it can still come with an event time it could hold, and no event that
 * could land in it is on time any more.
 */
export function isTileExpired(
  k: number,
  tileMs: number,
  windowMs: number,
  watermarkMs: number,
  allowedLatenessMs: number,
): boolean {
  return (k + 1) * tileMs <= watermarkMs - windowMs - allowedLatenessMs;
}

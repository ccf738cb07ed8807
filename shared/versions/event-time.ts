import { StrataError } from "../errors.js";

/**
 * How far past its writer's clock a write's event time may be (STRATA_MAX_EVENT_TIME_SKEW_MS).
 * Event time ranks first in the version order, so a row written with a time far in the future
 * beats every later real write of its key, and a backfill too (epoch ranks after event time):
 * such a write is refused at `/push`, by the writer library and by the consumer.
 */
export const DEFAULT_MAX_EVENT_TIME_SKEW_MS = 5 * 60_000;

/** The latest event time accepted and the clock it is measured from (injectable for tests). */
export interface EventTimeLimit {
  /** Milliseconds an event time may be ahead of `now()`. */
  maxSkewMs: number;
  /** Epoch milliseconds; Date.now by default. */
  now: () => number;
}

export function eventTimeLimit(options: Partial<EventTimeLimit> = {}): EventTimeLimit {
  return {
    maxSkewMs: options.maxSkewMs ?? DEFAULT_MAX_EVENT_TIME_SKEW_MS,
    now: options.now ?? Date.now,
  };
}

/** The latest event time accepted at `nowMs` (one reading of the clock serves a whole batch). */
export function latestEventTimeMs(limit: EventTimeLimit, nowMs = limit.now()): number {
  return nowMs + limit.maxSkewMs;
}

/**
 * The one check of all three places: throws STRATA_E_EVENT_TIME_IN_FUTURE when `eventTsMs`
 * is later than `latestMs` (latestEventTimeMs), naming both times.
 */
export function checkEventTime(eventTsMs: number, latestMs: number, maxSkewMs: number): void {
  if (eventTsMs <= latestMs) return;
  throw new StrataError(
    "STRATA_E_EVENT_TIME_IN_FUTURE",
    `event time ${isoOrNumber(eventTsMs)} is later than the latest accepted, ${isoOrNumber(latestMs)} (now plus ${maxSkewMs} ms of clock skew); a row written in the future would win over every real write of its key`,
    { eventTsMs, latestAcceptedMs: latestMs, maxSkewMs },
  );
}

function isoOrNumber(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

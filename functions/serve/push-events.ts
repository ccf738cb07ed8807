import type { Message } from "kafkajs";
import { aggregationEventMessages } from "../../shared/aggregations/event-writer.js";
import { StrataError } from "../../shared/errors.js";
import { batchRejected, type RejectedRow } from "../../shared/online-store/write-path.js";
import type { PushTarget, ResolvedAggregationView } from "../../shared/registry/index.js";
import { fromJson } from "./push-values.js";

/** A pushed row as an event of one aggregation view major: its events topic record. */
export interface PushedEvent {
  view: ResolvedAggregationView;
  /** Keyed `<view>@<major>/<encoded entity>`, the value schema 1 (shared/aggregations/events-topic.ts). */
  message: Message;
}

/**
 * The events of a push to aggregation views: one per (pushed row, aggregation view), its
 * inputs taken from the columns of the same name. Every row is checked before anything is
 * written; bad rows reject the whole push (STRATA_E_BATCH_REJECTED lists each with its code).
 * `columns` holds every join key and input of the target's aggregation views (checked).
 */
export function aggregationEvents(
  target: PushTarget,
  columns: ReadonlyMap<string, unknown[]>,
  eventTimes: readonly number[],
  pushedRows: number,
): PushedEvent[] {
  const views = target.aggregationViews ?? [];
  if (views.length === 0) return [];
  const events: PushedEvent[] = [];
  const rejected = new Map<number, RejectedRow>();
  for (const view of views) {
    for (let i = 0; i < pushedRows; i++) {
      const row: Record<string, unknown> = {};
      for (const key of view.joinKeys) row[key.name] = columns.get(key.name)![i];
      for (const input of view.aggregation.inputs) {
        row[input.name] = fromJson(input.type, columns.get(input.name)![i]);
      }
      try {
        const [message] = aggregationEventMessages([{ view, row, eventTsMs: eventTimes[i]! }]);
        events.push({ view, message: message! });
      } catch (error) {
        if (!(error instanceof StrataError)) throw error;
        // One entry per pushed row, the first problem found: a row is bad or it is not.
        if (!rejected.has(i))
          rejected.set(i, { index: i, code: error.code, message: error.message });
      }
    }
  }
  if (rejected.size > 0) {
    throw batchRejected(
      [...rejected.values()].sort((a, b) => a.index - b.index),
      pushedRows,
    );
  }
  return events;
}

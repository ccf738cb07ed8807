import { show, StrataError } from "../../shared/errors.js";
import { encodeEntityKey } from "../../shared/key-codec.js";
import { batchRejected, type RejectedRow } from "../../shared/online-store/write-path.js";
import type { PushTarget, ResolvedAggregationView } from "../../shared/registry/index.js";
import { fromJson } from "./push-values.js";

/** A pushed row as an event of one aggregation view major, validated and encoded. */
export interface PushedEvent {
  view: ResolvedAggregationView;
  /** The entity's join keys, encoded (shared/key-codec.ts). */
  encodedKey: string;
  eventTsMs: number;
  /** Each input's value-codec text ("" is null), by input name. */
  values: Record<string, string>;
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
      try {
        events.push(eventOf(view, columns, i, eventTimes[i]!));
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

function eventOf(
  view: ResolvedAggregationView,
  columns: ReadonlyMap<string, unknown[]>,
  row: number,
  eventTsMs: number,
): PushedEvent {
  const entity: Record<string, unknown> = {};
  for (const key of view.joinKeys) entity[key.name] = columns.get(key.name)![row];
  const encodedKey = encodeEntityKey(view.joinKeys, entity);
  const values: Record<string, string> = {};
  for (const input of view.aggregation.inputs) {
    const value = fromJson(input.type, columns.get(input.name)![row]);
    if (!input.codec.accepts(value)) {
      throw new StrataError(
        "STRATA_E_VALUE_TYPE",
        `input ${view.key}:${input.name} is ${input.type}, but the value is ${show(value)}`,
        { feature: input.name, view: view.key, type: input.type },
      );
    }
    values[input.name] = input.codec.encode(value);
  }
  return { view, encodedKey, eventTsMs, values };
}

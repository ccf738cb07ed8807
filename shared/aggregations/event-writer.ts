import type { Message, Producer } from "kafkajs";
import { encodeEntityKey } from "../key-codec.js";
import { show, StrataError } from "../errors.js";
import type { ResolvedAggregationView } from "../registry/feature-registry.js";
import {
  aggregationEventKey,
  aggregationEventsTopic,
  encodeAggregationEvent,
} from "./events-topic.js";
import { textsFromValues } from "./input-texts.js";

/** A row to turn into an aggregation event: join keys and inputs by column name, and its time. */
export interface AggregationEventRow {
  view: ResolvedAggregationView;
  /** Join key values and input values by column name (extra columns are ignored). */
  row: Record<string, unknown>;
  eventTsMs: number;
}

/**
 * The events topic records of some rows, checked before anything is sent (a bad row throws
 * STRATA_E_MISSING_JOIN_KEY, STRATA_E_ENTITY_KEY_TYPE, STRATA_E_VALUE_TYPE or
 * STRATA_E_BAD_WRITE_VERSION for a bad time, naming it), so a request is all or nothing.
 */
export function aggregationEventMessages(rows: readonly AggregationEventRow[]): Message[] {
  return rows.map(({ view, row, eventTsMs }) => {
    if (!Number.isSafeInteger(eventTsMs) || eventTsMs < 0) {
      throw new StrataError(
        "STRATA_E_BAD_WRITE_VERSION",
        `event time ${show(eventTsMs)} of a row for ${view.key} is not milliseconds since the epoch`,
        { view: view.key },
      );
    }
    const entity = encodeEntityKey(view.joinKeys, row);
    const texts = textsFromValues(view, row);
    const values: Record<string, string> = {};
    view.aggregation.inputs.forEach((input, i) => {
      if (texts[i] !== "") values[input.name] = texts[i]!;
    });
    return {
      key: aggregationEventKey(view.key, entity),
      value: encodeAggregationEvent(view, entity, eventTsMs, values),
    };
  });
}

/**
 * Writes rows as events to `strata.<project>.events` with acks=all; resolves once Kafka has
 * them. The producer must partition by key as the changelog writer's does
 * (shared/changelog/partitioner.ts, createKeyPartitioner), so an entity's events keep one
 * partition and their order.
 */
export async function writeAggregationEvents(
  producer: Producer,
  project: string,
  rows: readonly AggregationEventRow[],
): Promise<void> {
  if (rows.length === 0) return;
  const messages = aggregationEventMessages(rows);
  await producer.send({ topic: aggregationEventsTopic(project), acks: -1, messages });
}

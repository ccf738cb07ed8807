import { encodeEntityKey } from "../key-codec.js";
import { show, StrataError } from "../errors.js";
import type { FeatureRegistry, ResolvedAggregationView } from "../registry/feature-registry.js";
import { columnValue } from "../sources/column-value.js";
import { cdcTableTopic } from "../sources/debezium-config.js";
import { parseDebeziumEvent, type DebeziumChangeEvent } from "../sources/debezium-event.js";
import { textsFromValues } from "./input-texts.js";
import type { AggregationSourceDecoder } from "./source-decoder.js";

interface CdcAggregationSource {
  cdc: string;
  keyColumns: Record<string, string>;
  timestampColumn?: string;
}

/** The aggregation views fed by the cdc source whose table topic is `topic`. */
function viewsOfTopic(registry: FeatureRegistry, topic: string): ResolvedAggregationView[] {
  const sources = new Set(
    registry
      .cdcSources()
      .filter((s) => cdcTableTopic(registry.project, s.table) === topic)
      .map((s) => s.name),
  );
  return registry.aggregationViews().filter((view) => {
    const source = view.aggregation.source;
    return "cdc" in source && sources.has(source.cdc);
  });
}

/**
 * `{cdc, keyColumns, timestampColumn?}` sources: the Debezium table topic of the cdc source,
 * read directly (no copy), so an event's origin is that topic's own offset. A row inserted
 * (`c`) or read by the initial snapshot (`r`) is one event of every view reading the table:
 * join keys from `keyColumns`, inputs from the columns of the same name, event time from
 * `timestampColumn` or else the commit time. Updates and deletes make no event: an
 * aggregation counts rows as they arrive (a transaction, a login) and never retracts one.
 */
export const cdcSourceDecoder: AggregationSourceDecoder = {
  topics(registry) {
    const names = new Set(
      registry.aggregationViews().flatMap((v) => {
        const source = v.aggregation.source;
        return "cdc" in source ? [source.cdc] : [];
      }),
    );
    const topics = registry
      .cdcSources()
      .filter((s) => names.has(s.name))
      .map((s) => cdcTableTopic(registry.project, s.table));
    return [...new Set(topics)];
  },
  decode(registry, topic, partition, message) {
    // Debezium follows a delete with a tombstone (null value) for log compaction: not a change.
    if (message.value === null) return [];
    const change = parseDebeziumEvent(message.value);
    if (change.op !== "c" && change.op !== "r") return [];
    return viewsOfTopic(registry, topic).map((view) => ({
      view,
      entity: entityOf(view, change, topic),
      eventTsMs: eventTimeOf(view, change, topic),
      sourceTopic: topic,
      partition,
      offset: message.offset,
      texts: inputTexts(view, change, topic),
    }));
  },
};

function sourceOf(view: ResolvedAggregationView): CdcAggregationSource {
  return view.aggregation.source as CdcAggregationSource;
}

function entityOf(view: ResolvedAggregationView, change: DebeziumChangeEvent, topic: string) {
  const row = change.after!;
  const { keyColumns } = sourceOf(view);
  const values: Record<string, unknown> = {};
  for (const key of view.joinKeys) {
    const column = keyColumns[key.name]!;
    values[key.name] = columnValue(row[column], key.type, `${topic} ${column}`);
  }
  return encodeEntityKey(view.joinKeys, values);
}

function eventTimeOf(
  view: ResolvedAggregationView,
  change: DebeziumChangeEvent,
  topic: string,
): number {
  const column = sourceOf(view).timestampColumn;
  if (column === undefined) return change.source.tsMs;
  const ms = columnValue(change.after![column], "unix_timestamp", `${topic} ${column}`);
  if (typeof ms !== "number" || !Number.isSafeInteger(ms) || ms < 0) {
    throw new StrataError(
      "STRATA_E_BAD_AGGREGATION_EVENT",
      `record of topic ${topic}: event-time column ${show(column)} of ${view.key} holds ${show(change.after![column])}, not a time`,
      { topic, view: view.key, column },
    );
  }
  return ms;
}

function inputTexts(
  view: ResolvedAggregationView,
  change: DebeziumChangeEvent,
  topic: string,
): string[] {
  const row = change.after!;
  const values: Record<string, unknown> = {};
  for (const input of view.aggregation.inputs) {
    values[input.name] = columnValue(row[input.name], input.type, `${topic} ${input.name}`);
  }
  return textsFromValues(view, values);
}

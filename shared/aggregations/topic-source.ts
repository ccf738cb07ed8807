import { encodeEntityKey } from "../key-codec.js";
import { show, StrataError } from "../errors.js";
import type { FeatureRegistry, ResolvedAggregationView } from "../registry/feature-registry.js";
import type { AggregationEvent } from "./event.js";
import { aggregationEventsTopic, decodeAggregationEvent } from "./events-topic.js";
import { textsFromValues } from "./input-texts.js";
import type { AggregationSourceDecoder } from "./source-decoder.js";

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

function topicViews(registry: FeatureRegistry, topic: string): ResolvedAggregationView[] {
  return registry
    .aggregationViews()
    .filter((v) => "topic" in v.aggregation.source && v.aggregation.source.topic === topic);
}

/**
 * `{topic, timestampField}` sources: each record's value is a JSON object with the join keys,
 * the inputs (by column name) and the event time (milliseconds, or ISO 8601 text with a zone),
 * and is one event of every view reading the topic; its origin is that topic's own offset.
 */
export const topicSourceDecoder: AggregationSourceDecoder = {
  topics(registry) {
    const topics = registry.aggregationViews().flatMap((v) => {
      const source = v.aggregation.source;
      return "topic" in source ? [source.topic] : [];
    });
    return [...new Set(topics)];
  },
  decode(registry, topic, partition, message) {
    let value: unknown;
    try {
      value = JSON.parse(message.value?.toString("utf8") ?? "");
    } catch {
      throw bad(topic, "the value is not JSON");
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw bad(topic, `the value is not a JSON object: ${show(value)}`);
    }
    const record = value as Record<string, unknown>;
    return topicViews(registry, topic).map((view) => {
      const source = view.aggregation.source as { timestampField: string };
      return {
        view,
        entity: encodeEntityKey(view.joinKeys, record),
        eventTsMs: eventTime(topic, record[source.timestampField], source.timestampField),
        sourceTopic: topic,
        partition,
        offset: message.offset,
        texts: textsFromValues(view, record),
      };
    });
  },
};

/** The events topic: push-sourced events, already encoded (events-topic.ts). */
export const pushSourceDecoder: AggregationSourceDecoder = {
  topics(registry) {
    const any = registry.aggregationViews().some((v) => "push" in v.aggregation.source);
    return any ? [aggregationEventsTopic(registry.project)] : [];
  },
  decode(registry, topic, partition, message): AggregationEvent[] {
    return [decodeAggregationEvent(registry, topic, partition, message)];
  },
};

function eventTime(topic: string, value: unknown, field: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "string" && ISO_TIME.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  throw bad(
    topic,
    `event time field ${show(field)} is ${show(value)}: milliseconds since the epoch or ISO 8601 text with a zone`,
  );
}

function bad(topic: string, what: string): StrataError {
  return new StrataError("STRATA_E_BAD_AGGREGATION_EVENT", `record of topic ${topic}: ${what}`, {
    topic,
  });
}

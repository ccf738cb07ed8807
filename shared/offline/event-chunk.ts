import type { KafkaMessage } from "kafkajs";
import {
  cdcSourceDecoder,
  decodeWithinSkew,
  pushSourceDecoder,
  topicSourceDecoder,
  type AggregationDecoders,
  type AggregationSourceDecoder,
} from "../aggregations/index.js";
import { isStrataError, type StrataError } from "../errors.js";
import type { FeatureRegistry } from "../registry/index.js";
import { projectEvent } from "./event-record.js";

/** A chunk of records turned into offline records, with what could not be. */
export interface ProjectedChunk {
  records: { key: string; value: string }[];
  byView: Map<string, number>;
  skipped: { message: KafkaMessage; error: StrataError }[];
  /** The newest produce time of a record naming a view (or features) this registry lacks. */
  unknownProducedMs: number | undefined;
}

/**
 * The aggregation consumer's decoders by topic (push: the events topic; topic sources: their
 * topics; `extra`, e.g. a CDC decoder), for the registry's aggregation views: the projector
 * reads what the consumer reads, decoded the same way.
 */
export function aggregationSourceTopics(
  registry: FeatureRegistry,
  extra: AggregationDecoders = {},
): Map<string, AggregationSourceDecoder> {
  const decoders: AggregationDecoders = {
    push: pushSourceDecoder,
    topic: topicSourceDecoder,
    cdc: cdcSourceDecoder,
    ...extra,
  };
  const byTopic = new Map<string, AggregationSourceDecoder>();
  for (const decoder of Object.values(decoders)) {
    for (const topic of decoder.topics(registry)) byTopic.set(topic, decoder);
  }
  return byTopic;
}

/**
 * A chunk of an aggregation source topic's records against one registry: each event becomes a
 * row of its view major's event table, whatever the online store will judge of it (too late,
 * or a re-delivery): a training set applies those rules itself, in origin order. A record the
 * aggregation consumer dead-letters for what it is (undecodable, or an event time beyond the
 * produce time plus `maxSkewMs`, as the consumer checks it) is skipped.
 */
export function projectEventChunk(
  project: string,
  registry: FeatureRegistry,
  decoder: AggregationSourceDecoder,
  topic: string,
  partition: number,
  chunk: readonly KafkaMessage[],
  maxSkewMs: number,
): ProjectedChunk {
  const out: ProjectedChunk = {
    records: [],
    byView: new Map(),
    skipped: [],
    unknownProducedMs: undefined,
  };
  for (const message of chunk) {
    try {
      const events = decodeWithinSkew(decoder, registry, topic, partition, message, maxSkewMs);
      for (const event of events) {
        out.records.push({
          key: `${event.view.key}/${event.entity}`,
          value: projectEvent(project, event),
        });
        out.byView.set(event.view.key, (out.byView.get(event.view.key) ?? 0) + 1);
      }
    } catch (error) {
      if (!isStrataError(error)) throw error;
      out.skipped.push({ message, error });
    }
  }
  return out;
}

import type { KafkaMessage } from "kafkajs";
import { StrataError } from "../errors.js";
import type { FeatureRegistry } from "../registry/feature-registry.js";
import type { AggregationEvent } from "./event.js";

/** The kinds of aggregation view sources (AggregationSourceDefinition). */
export type AggregationSourceKind = "push" | "topic" | "cdc";

/**
 * Turns the records of one kind of source into aggregation events. The consumer subscribes to
 * every decoder's topics and dead-letters a record whose decode throws a StrataError (its code
 * goes in the dead-letter headers). A record may make no event (a CDC delete) or several (a
 * topic read by several views).
 */
export interface AggregationSourceDecoder {
  /** The topics this kind of source reads for the registry's aggregation views. */
  topics(registry: FeatureRegistry): string[];
  decode(
    registry: FeatureRegistry,
    topic: string,
    partition: number,
    message: KafkaMessage,
  ): AggregationEvent[];
}

/** The decoders by kind (push: topic-source.ts, topic: topic-source.ts, cdc: cdc-source.ts). */
export type AggregationDecoders = Partial<Record<AggregationSourceKind, AggregationSourceDecoder>>;

/**
 * Decodes one record with `decoder`, refusing (STRATA_E_EVENT_TIME_IN_FUTURE) a record with an
 * event later than its produce time plus `maxSkewMs`: one event far ahead would raise the
 * entity's watermark and make every on-time event after it late. The consumer dead-letters
 * such a record and the offline projector skips it, so both judge it the same way.
 */
export function decodeWithinSkew(
  decoder: AggregationSourceDecoder,
  registry: FeatureRegistry,
  topic: string,
  partition: number,
  message: KafkaMessage,
  maxSkewMs: number,
): AggregationEvent[] {
  const events = decoder.decode(registry, topic, partition, message);
  const latest = Number(message.timestamp) + maxSkewMs;
  const future = events.find((e) => e.eventTsMs > latest);
  if (future) {
    throw new StrataError(
      "STRATA_E_EVENT_TIME_IN_FUTURE",
      `event time ${new Date(future.eventTsMs).toISOString()} is later than the record's produce time plus ${maxSkewMs} ms`,
      { view: future.view.key, eventTsMs: future.eventTsMs },
    );
  }
  return events;
}

import type { KafkaMessage } from "kafkajs";
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

import type { ResolvedAggregationView } from "../registry/feature-registry.js";

/**
 * One aggregation event, decoded and checked, ready to apply: which view major and entity it
 * updates, when it happened, its origin (for exactly once and last_n order) and its inputs.
 */
export interface AggregationEvent {
  view: ResolvedAggregationView;
  /** The encoded entity key (shared/key-codec.ts). */
  entity: string;
  eventTsMs: number;
  /** Where the event was read: its topic, partition and offset (decimal text, as Kafka gives it). */
  sourceTopic: string;
  partition: number;
  offset: string;
  /**
   * Value-codec texts of the view's inputs, in `view.aggregation.inputs` order; "" is null.
   * Integer texts are canonical decimals (the apply script compares them as text).
   */
  texts: readonly string[];
}

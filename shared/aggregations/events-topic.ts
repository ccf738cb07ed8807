import type { Admin, KafkaMessage } from "kafkajs";
import { show, StrataError } from "../errors.js";
import { ensureDeleteTopic, type ChangelogTopicConfig } from "../changelog/topics.js";
import type { FeatureRegistry, ResolvedAggregationView } from "../registry/feature-registry.js";
import type { AggregationEvent } from "./event.js";
import { canonicalTexts } from "./input-texts.js";

/** The project's aggregation events topic: push-sourced events, one per pushed row and view. */
export function aggregationEventsTopic(project: string): string {
  return `strata.${project}.events`;
}

/** `<view>@<major>/<encoded entity>`: one entity's events go through one partition. */
export function aggregationEventKey(viewKey: string, entity: string): string {
  return `${viewKey}/${entity}`;
}

/** The JSON value of an events topic record (schema 1); values are value-codec texts, "" null. */
export interface AggregationEventValue {
  schema: 1;
  view: string;
  major: number;
  entity: string;
  eventTsMs: number;
  values: Record<string, string>;
}

export function encodeAggregationEvent(
  view: ResolvedAggregationView,
  entity: string,
  eventTsMs: number,
  values: Record<string, string>,
): string {
  const value: AggregationEventValue = {
    schema: 1,
    view: view.name,
    major: view.major,
    entity,
    eventTsMs,
    values,
  };
  return JSON.stringify(value);
}

/**
 * Decodes an events topic record. Throws STRATA_E_BAD_AGGREGATION_EVENT naming what is wrong
 * (the consumer dead-letters it); inputs the view does not have (a newer minor) are ignored.
 */
export function decodeAggregationEvent(
  registry: FeatureRegistry,
  topic: string,
  partition: number,
  message: KafkaMessage,
): AggregationEvent {
  let value: Partial<AggregationEventValue>;
  try {
    value = JSON.parse(message.value?.toString("utf8") ?? "") as Partial<AggregationEventValue>;
  } catch {
    throw bad("the value is not JSON");
  }
  if (value === null || typeof value !== "object" || value.schema !== 1) {
    throw bad(`the value is not a schema 1 aggregation event: ${show(value)}`);
  }
  if (typeof value.view !== "string" || !Number.isInteger(value.major)) {
    throw bad(`view ${show(value.view)} / major ${show(value.major)} are not a view major`);
  }
  let view: ResolvedAggregationView;
  try {
    view = registry.aggregationView(`${value.view}@${value.major}`);
  } catch (error) {
    throw bad(error instanceof Error ? error.message : String(error));
  }
  if (typeof value.entity !== "string" || value.entity.length === 0) {
    throw bad(`entity ${show(value.entity)} is not an encoded entity key`);
  }
  if (!Number.isSafeInteger(value.eventTsMs)) {
    throw bad(`eventTsMs ${show(value.eventTsMs)} is not a time in milliseconds`);
  }
  const values = value.values ?? {};
  if (typeof values !== "object" || values === null) throw bad("values is not an object");
  return {
    view,
    entity: value.entity,
    eventTsMs: value.eventTsMs!,
    sourceTopic: topic,
    partition,
    offset: message.offset,
    texts: canonicalTexts(view, values),
  };
}

function bad(what: string): StrataError {
  return new StrataError("STRATA_E_BAD_AGGREGATION_EVENT", `aggregation event: ${what}`, {});
}

/**
 * Creates the events topic if it is missing: deleted by age (events are inputs, not state;
 * the tiles and the offline table keep what they made of them), as many partitions as the
 * changelog. Returns whether it created it.
 */
export function ensureAggregationEventsTopic(
  admin: Admin,
  project: string,
  requested: ChangelogTopicConfig,
): Promise<boolean> {
  return ensureDeleteTopic(admin, aggregationEventsTopic(project), requested);
}

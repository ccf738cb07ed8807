import type { KafkaMessage } from "kafkajs";
import { show, StrataError } from "../errors.js";
import { decodeEntityKey } from "../key-codec.js";
import type { FeatureRegistry } from "../registry/index.js";
import type { OfflineEvent } from "./event-record.js";

/**
 * Decodes a record of `strata.<project>.events` (CONTRACTS.md, schema 1:
 * `{"schema":1,"view","major","entity","eventTsMs","values":{input: text}}`) against the
 * registry, as the aggregation consumer reads it. A view major the registry lacks is
 * STRATA_E_UNKNOWN_VIEW (the projector waits for a newer registry, as for changelog records);
 * anything else malformed is STRATA_E_BAD_AGGREGATION_EVENT.
 */
export function decodeEventRecord(
  registry: FeatureRegistry,
  topic: string,
  partition: number,
  message: KafkaMessage,
): OfflineEvent {
  const bad = (why: string) =>
    new StrataError(
      "STRATA_E_BAD_AGGREGATION_EVENT",
      `event at ${topic}/${partition}/${message.offset}: ${why}`,
      {
        topic,
        partition,
        offset: message.offset,
      },
    );
  let body: unknown;
  try {
    body = JSON.parse(message.value?.toString() ?? "");
  } catch {
    throw bad("not JSON");
  }
  const record = body as Record<string, unknown>;
  if (record === null || typeof record !== "object" || record.schema !== 1) {
    throw bad(`not a schema 1 event (${show(record?.schema)})`);
  }
  const { view: name, major, entity, eventTsMs, values } = record;
  if (typeof name !== "string" || !Number.isInteger(major)) throw bad("no view and major");
  const view = registry.aggregationView(`${name}@${major as number}`);
  if (view.major !== major) throw bad(`view ${name}@${major as number} is not registered`);
  if (typeof entity !== "string") throw bad("no entity");
  const joinKeyValues = decodeEntityKey(entity);
  if (joinKeyValues.length !== view.joinKeys.length)
    throw bad(`entity ${show(entity)} does not fit the view's join keys`);
  if (!Number.isSafeInteger(eventTsMs))
    throw bad(`eventTsMs ${show(eventTsMs)} is not a whole number`);
  if (values === null || typeof values !== "object") throw bad("no values");
  const texts = view.aggregation.inputs.map((input) => {
    const text = (values as Record<string, unknown>)[input.name] ?? "";
    if (typeof text !== "string" || !input.codec.acceptsText(text)) {
      throw bad(`value ${show(text)} of input ${input.name} is not a ${input.type}`);
    }
    return text;
  });
  return {
    view,
    joinKeyValues,
    eventTsMs: eventTsMs as number,
    values: texts,
    origin: { topic, partition, offset: message.offset },
  };
}

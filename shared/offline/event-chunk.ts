import type { KafkaMessage } from "kafkajs";
import { isStrataError, type StrataError } from "../errors.js";
import type { FeatureRegistry } from "../registry/index.js";
import type { OfflineEvent } from "./event-record.js";
import { projectEvent } from "./event-record.js";

/** Decodes one record of an aggregation event topic against a registry (throws a StrataError). */
export type EventDecoder = (
  registry: FeatureRegistry,
  topic: string,
  partition: number,
  message: KafkaMessage,
) => OfflineEvent;

/** A chunk of records turned into offline records, with what could not be. */
export interface ProjectedChunk {
  records: { key: string; value: string }[];
  byView: Map<string, number>;
  skipped: { message: KafkaMessage; error: StrataError }[];
  /** The newest produce time of a record naming a view (or features) this registry lacks. */
  unknownProducedMs: number | undefined;
}

/**
 * A chunk of an aggregation event topic's records against one registry: each event becomes a
 * row of its view major's event table, whatever the online store will judge of it (too late
 * or a re-delivery): a training set applies those rules itself, in origin order. A record the
 * aggregation consumer cannot decode either is skipped, and one naming an aggregation view the
 * registry lacks waits for a newer registry.
 */
export function projectEventChunk(
  project: string,
  registry: FeatureRegistry,
  topic: string,
  partition: number,
  chunk: readonly KafkaMessage[],
  decode: EventDecoder,
  nowMs: number,
): ProjectedChunk {
  const out: ProjectedChunk = {
    records: [],
    byView: new Map(),
    skipped: [],
    unknownProducedMs: undefined,
  };
  for (const message of chunk) {
    try {
      const event = decode(registry, topic, partition, message);
      out.records.push({
        key: message.key?.toString() ?? `${event.view.key}/${event.origin.offset}`,
        value: projectEvent(project, event),
      });
      out.byView.set(event.view.key, (out.byView.get(event.view.key) ?? 0) + 1);
    } catch (error) {
      if (!isStrataError(error)) throw error;
      out.skipped.push({ message, error });
      if (error.code === "STRATA_E_UNKNOWN_VIEW") {
        const producedMs = Number(message.timestamp);
        const fromMs = producedMs > 0 && producedMs < nowMs ? producedMs : nowMs;
        out.unknownProducedMs = Math.max(out.unknownProducedMs ?? 0, fromMs);
      }
    }
  }
  return out;
}

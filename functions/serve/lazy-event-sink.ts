import { StrataError } from "../../shared/errors.js";
import { createKafka, kafkaConnection } from "../../shared/changelog/kafka-client.js";
import type { ServeChangelogConfig } from "./config.js";
import { EventSink } from "./event-sink.js";
import type { PushedEvent } from "./push-events.js";
import type { PushedEventSink } from "./push-write.js";

/**
 * The events producer of a serving process, connected at the first push to an aggregation
 * view: a project without aggregation views gets no events topic and no second producer. A
 * failed connection is not kept; the next push tries again.
 */
export class LazyEventSink implements PushedEventSink {
  private opening: Promise<EventSink> | undefined;

  constructor(
    private readonly config: ServeChangelogConfig,
    private readonly project: string,
    private readonly logError: (message: string, error: unknown) => void,
  ) {}

  async write(events: readonly PushedEvent[]): Promise<void> {
    this.opening ??= this.open();
    let sink: EventSink;
    try {
      sink = await this.opening;
    } catch (error) {
      throw new StrataError(
        "STRATA_E_CHANGELOG_UNAVAILABLE",
        "the events topic could not be reached; nothing of the push's events was written",
        { events: events.length, mayStillBeWritten: false },
        { cause: error },
      );
    }
    await sink.write(events);
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    if (opening) await (await opening.catch(() => undefined))?.close();
  }

  private open(): Promise<EventSink> {
    const kafka = createKafka(
      kafkaConnection(this.config.kafka, `strata-serve-${this.config.region}-events`),
      (_level, message, fields) => this.logError(message, fields),
    );
    const opening = EventSink.open(
      kafka,
      this.project,
      this.config.topics,
      this.config.ackTimeoutMs,
    );
    opening.catch(() => {
      if (this.opening === opening) this.opening = undefined;
    });
    return opening;
  }
}

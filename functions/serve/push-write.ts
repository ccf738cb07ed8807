import type {
  ChangelogWriteResult,
  ChangelogWriter,
  WaitFor,
} from "../../shared/changelog/changelog-writer.js";
import { StrataError } from "../../shared/errors.js";
import type { FeatureRegistry } from "../../shared/registry/index.js";
import type { PushedEvent } from "./push-events.js";
import type { PushRequest } from "./push-request.js";

/** Produces events to `strata.<project>.events` and resolves once Kafka acknowledged them (acks=all). */
export interface PushedEventSink {
  write(events: readonly PushedEvent[]): Promise<void>;
}

/** What a push reached: the changelog writer's result, and the events produced (if any). */
export interface PushWriteResult extends Partial<
  Pick<ChangelogWriteResult, "applied" | "replication">
> {
  reached: WaitFor;
  /** Events produced to the events topic, acknowledged by Kafka; absent when the push had none. */
  events?: number;
}

/**
 * Writes a validated push: rows of feature views through the changelog writer, then the events
 * of aggregation views, each acknowledged by Kafka before the call returns. The rows go first:
 * when the events cannot be written, a client that pushes again rewrites the rows harmlessly
 * (the CAS applies a version once), whereas events written before a failed row write would be
 * counted twice by a retry.
 */
export async function writePush(
  parsed: PushRequest,
  registry: FeatureRegistry,
  writer: ChangelogWriter,
  sink: PushedEventSink | undefined,
): Promise<PushWriteResult> {
  const hasEvents = parsed.events.length > 0;
  if (hasEvents && !sink) {
    throw new StrataError(
      "STRATA_E_PUSH_DISABLED",
      `push source ${parsed.target.name} writes aggregation views, and this server has no events writer`,
      {},
    );
  }
  if (hasEvents && (parsed.wait === "applied" || parsed.wait === "replicated")) {
    throw new StrataError(
      "STRATA_E_BAD_REQUEST",
      `"wait" is "${parsed.wait}", but push source ${parsed.target.name} writes aggregation views (${(parsed.target.aggregationViews ?? []).map((v) => v.key).join(", ")}), whose events the aggregation consumer applies; a push to them waits at most until "acked"`,
      { wait: parsed.wait },
    );
  }
  let result: ChangelogWriteResult | undefined;
  if (parsed.rows.length > 0) {
    result = await writer.write(parsed.rows, {
      registry,
      wait: parsed.wait,
      replication: parsed.replication,
    });
  }
  if (!hasEvents) return result!;
  await sink!.write(parsed.events);
  // Events are acknowledged; rows may have reached less (standard views, wait "enqueued").
  const reached: WaitFor = result?.reached === "enqueued" ? "enqueued" : "acked";
  return { reached, events: parsed.events.length };
}

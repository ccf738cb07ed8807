import { StrataError } from "../errors.js";

interface KafkaJsErrorLike {
  name?: string;
  type?: string;
  message?: string;
  retriable?: boolean;
  cause?: unknown;
}

/** Protocol errors that mean the record itself is too large for the topic or the broker. */
const TOO_LARGE = new Set(["MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE"]);

/**
 * kafkajs' `retriable` flag, mapped onto the writer's retry policy: the StrataError a send
 * error becomes when retrying cannot fix it, or undefined when it is worth retrying.
 *
 * kafkajs wraps what its own retrier gives up on. KafkaJSNumberOfRetriesExceeded is marked
 * non-retriable, but it only means kafkajs' bounded retries ran out on a retriable cause (a
 * broker down, a leader moving): the writer keeps retrying those, within each call's deadline.
 * KafkaJSNonRetriableError wraps the error that was refused for good; its cause says why.
 */
export function permanentKafkaError(error: unknown): StrataError | undefined {
  let current = error as KafkaJsErrorLike | undefined;
  for (let depth = 0; current && depth < 8; depth++) {
    if (current.name === "KafkaJSNumberOfRetriesExceeded") return undefined;
    if (current.name === "KafkaJSNonRetriableError" && current.cause) {
      current = current.cause;
      continue;
    }
    if (current.retriable !== false) return undefined;
    const kafkaError = current.type ?? current.name ?? "unknown";
    if (current.type && TOO_LARGE.has(current.type)) {
      return new StrataError(
        "STRATA_E_RECORD_TOO_LARGE",
        `Kafka refused the record as too large for the changelog topic (${kafkaError}: ${current.message ?? ""}); it was not written`,
        { kafkaError, written: false },
        { cause: error },
      );
    }
    return new StrataError(
      "STRATA_E_CHANGELOG_REFUSED",
      `Kafka refused the write for a reason retrying cannot fix (${kafkaError}: ${current.message ?? ""}); it was not written`,
      { kafkaError, written: false },
      { cause: error },
    );
  }
  return undefined;
}

/**
 * Runs a metadata or offset read again while Kafka answers with an error kafkajs marks
 * retriable (a partition whose leader is moving or not yet known, right after a topic was
 * created or a broker restarted), with a growing pause; any other error, or the last attempt's,
 * is thrown. kafkajs' admin does not retry these reads itself.
 */
export async function retryRetriable<T>(run: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= attempts || (error as KafkaJsErrorLike).retriable !== true) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** Math.min(attempt, 4)));
    }
  }
}

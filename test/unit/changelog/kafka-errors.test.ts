import assert from "node:assert/strict";
import { describe, it } from "node:test";
import kafkajs from "kafkajs";
import { permanentKafkaError } from "../../../shared/changelog/kafka-errors.js";
import { judgeReplication } from "../../../shared/changelog/topic-replication.js";
import { isStrataError } from "../../../shared/errors.js";

// kafkajs is CommonJS, and Node sees only some of its exports by name.
const {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
} = kafkajs;

const protocolError = (type: string, retriable: boolean) =>
  new KafkaJSProtocolError({
    type,
    code: 0,
    retriable,
    message: `${type} from the broker`,
  } as never);

/** What kafkajs' own retrier throws when it gives up on `error` (src/retry/index.js). */
const gaveUp = (error: Error & { retriable: boolean }) =>
  error.retriable
    ? new KafkaJSNumberOfRetriesExceeded(error, { retryCount: 5, retryTime: 1_000 })
    : new (KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error)(
        error,
        { cause: error },
      );

describe("kafkajs' retriable flag mapped onto the writer's retry policy", () => {
  it("retries what kafkajs retried until its own retries ran out (a broker down, a leader moving)", () => {
    assert.equal(
      permanentKafkaError(gaveUp(new KafkaJSConnectionError("refused") as never)),
      undefined,
    );
    assert.equal(
      permanentKafkaError(gaveUp(protocolError("NOT_LEADER_FOR_PARTITION", true))),
      undefined,
    );
    assert.equal(permanentKafkaError(new Error("something else")), undefined);
  });

  it("fails a record too large at once with STRATA_E_RECORD_TOO_LARGE", () => {
    for (const type of ["MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE"]) {
      const error = permanentKafkaError(gaveUp(protocolError(type, false)));
      assert.ok(isStrataError(error, "STRATA_E_RECORD_TOO_LARGE"), type);
      assert.equal(error.status, 413);
      assert.equal(error.details.kafkaError, type);
    }
  });

  it("fails authorization and other non-retriable refusals at once with STRATA_E_CHANGELOG_REFUSED", () => {
    const refused = permanentKafkaError(gaveUp(protocolError("TOPIC_AUTHORIZATION_FAILED", false)));
    assert.ok(isStrataError(refused, "STRATA_E_CHANGELOG_REFUSED"));
    assert.equal(refused.details.kafkaError, "TOPIC_AUTHORIZATION_FAILED");
    const sasl = permanentKafkaError(
      new (KafkaJSSASLAuthenticationError as unknown as new (m: string) => Error)("bad password"),
    );
    assert.ok(isStrataError(sasl, "STRATA_E_CHANGELOG_REFUSED"));
  });
});

describe("the changelog's replication factor at start-up", () => {
  const topic = "strata.p.changelog";
  it("accepts the configured factor, and less only while the cluster has fewer brokers", () => {
    assert.deepEqual(
      judgeReplication({ topic, actual: 3, configured: 3, brokers: 3, check: "refuse" }),
      [],
    );
    assert.deepEqual(
      judgeReplication({ topic, actual: 1, configured: 3, brokers: 1, check: "refuse" }),
      [],
    );
  });

  it("refuses by default a changelog with fewer replicas than the cluster could hold, or warns when told to", () => {
    assert.throws(
      () => judgeReplication({ topic, actual: 1, configured: 3, brokers: 3, check: "refuse" }),
      (e: unknown) =>
        isStrataError(e, "STRATA_E_BAD_TOPIC_CONFIG") && /replication factor 1/.test(e.message),
    );
    assert.throws(() =>
      judgeReplication({ topic, actual: 1, configured: 3, brokers: 2, check: "refuse" }),
    );
    const warnings = judgeReplication({
      topic,
      actual: 2,
      configured: 3,
      brokers: 5,
      check: "warn",
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /kafka-reassign-partitions/);
  });
});

// The changelog's replication factor, checked at start-up against the real (single-broker) Kafka.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Admin } from "kafkajs";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import {
  changelogTopic,
  createKafka,
  deadLetterTopic,
  ensureChangelogTopics,
} from "../../shared/changelog/index.js";
import {
  judgeReplication,
  topicReplicationFactor,
} from "../../shared/changelog/topic-replication.js";
import { isStrataError } from "../../shared/errors.js";
import { TEST_TOPICS } from "../support/changelog.js";
import { uniqueProject } from "../support/store.js";

describe("the changelog's replication factor at start-up, on the real Kafka", () => {
  const project = uniqueProject("replication");
  const topic = changelogTopic(project);
  let admin: Admin;
  let brokers: number;

  before(async () => {
    const kafka = createKafka(
      { brokers: resolveEndpoints().kafka.address, clientId: "strata-test" },
      () => undefined,
    );
    admin = kafka.admin();
    await admin.connect();
    brokers = (await admin.describeCluster()).brokers.length;
    await ensureChangelogTopics(admin, project, TEST_TOPICS);
  });
  after(async () => {
    await admin.deleteTopics({ topics: [topic, deadLetterTopic(project)] }).catch(() => undefined);
    await admin.disconnect();
  });

  it("reads the existing changelog's replication factor from the brokers", async () => {
    assert.equal(await topicReplicationFactor(admin, topic), TEST_TOPICS.replicationFactor);
  });

  it("starts with a factor below the configured one only while the cluster has fewer brokers, with a warning", async () => {
    const configured = brokers + 2;
    const { created, warnings } = await ensureChangelogTopics(admin, project, {
      ...TEST_TOPICS,
      replicationFactor: configured,
      minInSyncReplicas: 1,
    });
    assert.deepEqual(created, []);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`${brokers} broker\\(s\\)`));
  });

  it("refuses, by default, the existing changelog once the cluster could hold more replicas than it has", async () => {
    const actual = await topicReplicationFactor(admin, topic);
    // The stack has one broker: the same topic on a cluster grown to three brokers.
    const grown = { topic, actual, configured: 3, brokers: 3 };
    assert.throws(
      () => judgeReplication({ ...grown, check: "refuse" }),
      (e: unknown) =>
        isStrataError(e, "STRATA_E_BAD_TOPIC_CONFIG") &&
        e.message.includes(`replication factor ${actual}`),
    );
    assert.equal(judgeReplication({ ...grown, check: "warn" }).length, 1);
  });
});

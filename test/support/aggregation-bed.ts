// Kafka topics and a producer for a test project's aggregation events on the shared stack;
// everything is deleted and closed by cleanup().
import type { Admin, Kafka, Producer } from "kafkajs";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import {
  aggregationEventsTopic,
  ensureAggregationEventsTopic,
} from "../../shared/aggregations/index.js";
import {
  changelogTopic,
  createKafka,
  deadLetterTopic,
  ensureChangelogTopics,
} from "../../shared/changelog/index.js";
import { createKeyPartitioner } from "../../shared/changelog/partitioner.js";
import { TEST_TOPICS } from "./changelog.js";

export interface AggregationBed {
  kafka: Kafka;
  admin: Admin;
  producer: Producer;
  eventsTopic: string;
  dlq: string;
  cleanup: (extraTopics?: string[]) => Promise<void>;
}

export async function aggregationBed(project: string): Promise<AggregationBed> {
  const kafka = createKafka(
    { brokers: resolveEndpoints().kafka.address, clientId: "strata-agg-test" },
    () => undefined,
  );
  const admin = kafka.admin();
  await admin.connect();
  await ensureChangelogTopics(admin, project, TEST_TOPICS);
  await ensureAggregationEventsTopic(admin, project, TEST_TOPICS);
  const producer = kafka.producer({ createPartitioner: createKeyPartitioner });
  await producer.connect();
  return {
    kafka,
    admin,
    producer,
    eventsTopic: aggregationEventsTopic(project),
    dlq: deadLetterTopic(project),
    cleanup: async (extraTopics = []) => {
      await producer.disconnect().catch(() => undefined);
      const topics = [
        changelogTopic(project),
        deadLetterTopic(project),
        aggregationEventsTopic(project),
        ...extraTopics,
      ];
      await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

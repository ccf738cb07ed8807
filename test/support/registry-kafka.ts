// The stack's region-0 Kafka for the registry tests: a client, a connected admin, and the
// clean-up of a test project's topics (its registry, changelog and dead-letter topic).
import type { Admin, Kafka } from "kafkajs";
import { resolveEndpoints } from "../../dev/stack/endpoints.js";
import { changelogTopic, createKafka, deadLetterTopic } from "../../shared/changelog/index.js";
import { registryTopic } from "../../shared/registry-log/index.js";

export interface RegistryKafka {
  kafka: Kafka;
  admin: Admin;
  /** Deletes the projects' registry, changelog and dead-letter topics, then disconnects. */
  close(projects: readonly string[]): Promise<void>;
}

export async function openRegistryKafka(): Promise<RegistryKafka> {
  const kafka = createKafka(
    { brokers: resolveEndpoints().kafka.address, clientId: "strata-test" },
    () => undefined,
  );
  const admin = kafka.admin();
  await admin.connect();
  return {
    kafka,
    admin,
    close: async (projects) => {
      await admin
        .deleteTopics({
          topics: projects.flatMap((p) => [
            registryTopic(p),
            changelogTopic(p),
            deadLetterTopic(p),
          ]),
        })
        .catch(() => undefined);
      await admin.disconnect();
    },
  };
}

// What `strata plan` and `strata apply` call: the published registry library
// (shared/registry-log, docs/registry.md), given the repo file and the environment's Kafka.
import { createKafka, kafkaConnection } from "../shared/changelog/kafka-client.js";
import { EnvReader } from "../shared/config/env.js";
import { loadDefinition } from "../shared/registry/load-repo.js";
import {
  applyRegistry,
  planRegistry,
  type ApplyResult,
  type RegistryPlan,
} from "../shared/registry-log/index.js";

export type { ApplyResult, RegistryPlan };

export interface RegistryCommandOptions {
  /** The feature repo file to plan or apply (absolute path). */
  repoPath: string;
  /** The environment Kafka's access (KAFKA_BROKERS, KAFKA_TLS, ...) and the regions come from. */
  env: NodeJS.ProcessEnv;
  /** apply: publish even with incompatible changes (each is still named). */
  allowBreaking: boolean;
}

/** Validates the repo file and compares it with the published registry; publishes nothing. */
export async function planRepo(options: RegistryCommandOptions): Promise<RegistryPlan> {
  return withKafka(options, (kafka, regions) =>
    loadDefinition(options.repoPath).then((definition) =>
      planRegistry({ kafka, definition, peerRegions: regions.peerRegions }),
    ),
  );
}

/**
 * Plans, then publishes the registry and creates the project's topics if missing. Refuses
 * incompatible changes unless allowBreaking (STRATA_E_BREAKING_CHANGE naming each one).
 */
export async function applyRepo(options: RegistryCommandOptions): Promise<ApplyResult> {
  return withKafka(options, (kafka, regions) =>
    loadDefinition(options.repoPath).then((definition) =>
      applyRegistry({
        kafka,
        definition,
        allowBreaking: options.allowBreaking,
        region: regions.region,
        peerRegions: regions.peerRegions,
        appliedBy: options.env.STRATA_APPLIED_BY,
        topics: new EnvReader(options.env).changelogTopics(),
      }),
    ),
  );
}

async function withKafka<T>(
  options: RegistryCommandOptions,
  use: (
    kafka: ReturnType<typeof createKafka>,
    regions: { region: string; peerRegions: string[] },
  ) => Promise<T>,
): Promise<T> {
  const reader = new EnvReader(options.env);
  const access = reader.kafka(true)!;
  // kafkajs' own warnings would interleave with the plan: a refusal reaches the user as an error.
  const kafka = createKafka(kafkaConnection(access, "strata-cli"), () => {});
  return use(kafka, { region: reader.region(), peerRegions: reader.peerRegions() });
}

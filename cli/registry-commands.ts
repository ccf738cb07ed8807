// The interface `strata plan` and `strata apply` call: the published registry (a compacted
// Kafka topic strata.<project>.registry, issue 24). Its library, shared/registry-log/, is not
// on main yet; until it is wired in here, both functions fail with a user error saying so.
import { UserError } from "./errors.js";

export interface RegistryCommandOptions {
  /** The feature repo file to plan or apply (absolute path). */
  repoPath: string;
  /** The environment the library reads Kafka's access from (KAFKA_BROKERS, KAFKA_TLS, ...). */
  env: NodeJS.ProcessEnv;
  /** apply: publish even with incompatible changes (each is still named). */
  allowBreaking: boolean;
}

// The shapes below mirror shared/registry-log's PlanChange, RegistryPlan and ApplyResult as
// they stand on its branch, so wiring is: load the repo's definition, make a Kafka client from
// `env`, and return planRegistry's / applyRegistry's result.

/** One difference between the repo file and the published registry. */
export interface PlannedChange {
  action: "add" | "change" | "remove";
  /** "entity", "view", "feature", "service", "push-source" or "definitions". */
  kind: string;
  /** What changed: `driver`, `driver_stats@1`, `driver_stats@1:trips`, a service's name. */
  subject: string;
  /** What the change is, for people: `int64 → string`. */
  detail: string;
  /** Why it is incompatible, one reason each; absent when compatible. */
  incompatible?: string[];
}

export interface RegistryPlan {
  project: string;
  /** The registry published now; null when none has been. */
  current: {
    version: number;
    hash: string;
    appliedBy: string;
    appliedAt: string;
    region: string;
  } | null;
  /** The content hash (definitionHash) of the repo file's definition. */
  hash: string;
  changes: PlannedChange[];
  /** How many changes are incompatible (apply refuses them without allowBreaking). */
  incompatible: number;
}

export interface AppliedRegistry {
  /** False when the published registry already is this definition: nothing was published. */
  published: boolean;
  /** The version now published for this definition. */
  version: number;
  hash: string;
  plan: RegistryPlan;
  /** The local registry topic, strata.<project>.registry. */
  topic: string;
  /** The published record's offset; undefined when nothing was published. */
  offset: string | undefined;
  /** Topics the apply created (changelog, dead-letter, registry). */
  createdTopics: string[];
  warnings: string[];
}

export interface RegistryCommands {
  /** Validates the repo file and compares it with the published registry; publishes nothing. */
  plan(options: RegistryCommandOptions): Promise<RegistryPlan>;
  /**
   * Plans, then publishes the registry and creates the project's topics if missing. Refuses
   * incompatible changes unless allowBreaking (a StrataError naming each one).
   */
  apply(options: RegistryCommandOptions): Promise<AppliedRegistry>;
}

function notAvailable(command: string): UserError {
  return new UserError(
    `strata ${command} is not available yet: publishing the registry through Kafka has not landed in this build`,
    "until then, serve and ingest load the feature repo file itself (STRATA_REPO, or repo in strata.json)",
  );
}

/** The registry library's entry points, as the commands call them. */
export const registryCommands: RegistryCommands = {
  plan: () => Promise.reject(notAvailable("plan")),
  apply: () => Promise.reject(notAvailable("apply")),
};

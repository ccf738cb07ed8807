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

/** One difference between the repo file and the published registry. */
export interface PlannedChange {
  action: "added" | "changed" | "removed";
  /** What changed: "entity", "view", "major", "feature", "service" or "push-source". */
  kind: string;
  /** Its name: `view@major:feature`, a service's name, ... */
  name: string;
  /** What changed about it, when "changed" (e.g. "type float32 -> float64"). */
  detail?: string;
  /** Why it is incompatible (a service pins it, a type change within a major, ...); absent when compatible. */
  breaking?: string;
}

export interface RegistryPlan {
  project: string;
  /** The registry published now; null when none has been. */
  current: { version: number; hash: string } | null;
  /** The content hash (definitionHash) of the repo file's definition. */
  hash: string;
  changes: PlannedChange[];
}

export interface AppliedRegistry {
  plan: RegistryPlan;
  /** What was published; null when the repo matched the published registry (nothing to do). */
  published: {
    version: number;
    hash: string;
    topic: string;
    appliedBy: string;
    appliedAt: string;
  } | null;
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

import type { Kafka } from "kafkajs";
import { definitionHash } from "../registry/definition-hash.js";
import type { FeatureRepoDefinition } from "../registry/definitions.js";
import { FeatureRegistry } from "../registry/feature-registry.js";
import { diffDefinitions, type PlanChange } from "./registry-diff.js";
import type { PublishedRegistry } from "./published-registry.js";
import { readPublishedRegistry } from "./read-published.js";

/** The published registry a plan starts from. */
export interface PlanBase {
  version: number;
  hash: string;
  appliedBy: string;
  appliedAt: string;
  region: string;
}

/** What an apply of `definition` would change in the published registry. */
export interface RegistryPlan {
  project: string;
  /** The published registry compared with; null when none is published yet. */
  current: PlanBase | null;
  /** definitionHash of the new definition. */
  hash: string;
  /** Every change, entities first, then views and features, services, push sources. */
  changes: PlanChange[];
  /** How many changes are incompatible (an apply refuses them without allowBreaking). */
  incompatible: number;
}

/**
 * The plan from a published registry (or none) to a definition, without Kafka: what
 * planRegistry and applyRegistry compute once they have read the published one. `history`:
 * the registries published before (readPublishedRegistry's), for re-additions (flagReuse).
 */
export function planFrom(
  current: PublishedRegistry | undefined,
  definition: FeatureRepoDefinition,
  history: readonly PublishedRegistry[] = [],
): RegistryPlan {
  const changes = diffDefinitions(current?.definition, definition, history);
  return {
    project: definition.project,
    current: current
      ? {
          version: current.version,
          hash: current.hash,
          appliedBy: current.appliedBy,
          appliedAt: current.appliedAt,
          region: current.region,
        }
      : null,
    hash: definitionHash(definition),
    changes,
    incompatible: changes.filter((c) => c.incompatible).length,
  };
}

export interface PlanRegistryOptions {
  kafka: Kafka;
  /** The feature repo to plan (validated: throws its FeatureRegistry error when it is not valid). */
  definition: FeatureRepoDefinition;
  /** Peers whose registry copies count as published too (STRATA_PEER_REGIONS). */
  peerRegions?: readonly string[];
  /** The most the read of the published registry waits for Kafka (default 30,000 ms). */
  timeoutMs?: number;
}

/**
 * Compares a feature repo with the registry published for its project (the winner over the
 * local registry topic and the peers' copies) and returns the plan. Reads only: creates no
 * topic and publishes nothing.
 */
export async function planRegistry(options: PlanRegistryOptions): Promise<RegistryPlan> {
  const definition = plainDefinition(options.definition);
  new FeatureRegistry(definition);
  const state = await readPublishedRegistry({
    kafka: options.kafka,
    project: definition.project,
    peerRegions: options.peerRegions,
    timeoutMs: options.timeoutMs,
  });
  return planFrom(state.latest?.record, definition, state.history);
}

/**
 * The definition as the published record will carry it: a JSON round trip, so that what is
 * validated and hashed is exactly what readers will decode (undefined members dropped).
 */
export function plainDefinition(definition: FeatureRepoDefinition): FeatureRepoDefinition {
  return JSON.parse(JSON.stringify(definition)) as FeatureRepoDefinition;
}

import type { StrataError } from "../errors.js";
import type { FeatureRegistry } from "./feature-registry.js";

/** The registry a process serves, and where it came from. */
export interface ServedRegistry {
  registry: FeatureRegistry;
  /** The published version (1, 2, ...); 0 for a registry loaded from a STRATA_REPO file. */
  version: number;
  /** definitionHash of the definition it was built from. */
  hash: string;
  /** Where it came from, for logs and /ready: `file:<path>` or `kafka:<topic>@<offset>`. */
  origin: string;
}

/** A registry a source read but could not validate: the process keeps the one it serves. */
export interface RegistryRefusal {
  error: StrataError;
  /** Where the refused registry came from (as ServedRegistry.origin). */
  origin: string;
}

export interface RegistryListener {
  /** A newer valid registry: the process swaps to it; requests in flight finish on the old one. */
  onRegistry(next: ServedRegistry): void;
  /** A registry that failed validation: counted, logged, and otherwise ignored. */
  onRefused(refusal: RegistryRefusal): void;
}

/**
 * Where a process gets its registry: a feature repo file (STRATA_REPO, read once) or the
 * project's published registry (Kafka, followed live). `start` resolves with the registry to
 * serve first, and throws a StrataError when there is no valid one to start with.
 */
export interface RegistrySource {
  start(listener: RegistryListener): Promise<ServedRegistry>;
  stop(): Promise<void>;
}

import { definitionHash } from "./definition-hash.js";
import { FeatureRegistry } from "./feature-registry.js";
import { loadDefinition } from "./load-repo.js";
import type { RegistrySource, ServedRegistry } from "./registry-source.js";

/**
 * A feature repo file (STRATA_REPO) as a registry source: read once at start, version 0,
 * never changed afterwards (a file repo is for local work and tests; a running process
 * follows a published registry instead).
 */
export class FileRegistrySource implements RegistrySource {
  /** Nothing is ever delivered after start: no one needs to wait for a newer registry. */
  readonly follows = false;

  constructor(readonly path: string) {}

  async start(): Promise<ServedRegistry> {
    const definition = await loadDefinition(this.path);
    return {
      registry: new FeatureRegistry(definition),
      version: 0,
      hash: definitionHash(definition),
      origin: `file:${this.path}`,
    };
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }
}

/** A registry built in this process (tests, tools) as a served one: version 0, origin `in-process`. */
export function servedInProcess(registry: FeatureRegistry, origin = "in-process"): ServedRegistry {
  return { registry, version: 0, hash: definitionHash(registry.definition), origin };
}

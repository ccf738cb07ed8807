import path from "node:path";
import { pathToFileURL } from "node:url";
import { StrataError } from "../errors.js";
import type { FeatureRepoDefinition } from "./definitions.js";
import { FeatureRegistry } from "./feature-registry.js";

/** Loads a feature repo module (its default export, or an export named `repo`), validated. */
export async function loadRegistry(repoPath: string): Promise<FeatureRegistry> {
  return new FeatureRegistry(await loadDefinition(repoPath));
}

/** The definition a feature repo module exports (its default export, or an export named `repo`), unvalidated. */
export async function loadDefinition(repoPath: string): Promise<FeatureRepoDefinition> {
  let module: { default?: FeatureRepoDefinition; repo?: FeatureRepoDefinition };
  try {
    module = (await import(pathToFileURL(path.resolve(repoPath)).href)) as typeof module;
  } catch (error) {
    throw new StrataError(
      "STRATA_E_BAD_CONFIG",
      `STRATA_REPO ${repoPath} could not be loaded: ${(error as Error).message}`,
      {
        variable: "STRATA_REPO",
      },
    );
  }
  const definition = module.default ?? module.repo;
  if (!definition) {
    throw new StrataError(
      "STRATA_E_BAD_CONFIG",
      `STRATA_REPO ${repoPath} exports no feature repo (default export or "repo")`,
      {
        variable: "STRATA_REPO",
      },
    );
  }
  return definition;
}

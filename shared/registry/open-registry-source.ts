import type { KafkaAccess, RegistrySourceConfig } from "../config/env.js";
import { StrataError } from "../errors.js";
import { FileRegistrySource } from "./file-registry-source.js";
import type { RegistrySourceCapabilities } from "./live-registry.js";
import type { RegistrySource } from "./registry-source.js";

/** What following a project's published registry needs. */
export interface PublishedRegistryOptions {
  project: string;
  kafka: KafkaAccess;
  /** The Kafka client id of the process (e.g. `strata-serve-<region>`). */
  clientId: string;
}

/**
 * The one place a process' registry source is chosen (serving and the consumer both start
 * here): the STRATA_REPO file, or the project's published registry.
 */
export function openRegistrySource(
  config: RegistrySourceConfig,
  clientId: string,
): RegistrySource & RegistrySourceCapabilities {
  if (config.kind === "file") return new FileRegistrySource(config.path);
  return publishedRegistrySource({ project: config.project, kafka: config.kafka, clientId });
}

/**
 * The project's published registry (`strata.<project>.registry`), followed live. This build
 * has no reader of that topic yet: the process needs STRATA_REPO.
 */
function publishedRegistrySource(
  options: PublishedRegistryOptions,
): RegistrySource & RegistrySourceCapabilities {
  throw new StrataError(
    "STRATA_E_BAD_CONFIG",
    `STRATA_REPO is required: this build cannot follow the published registry of project ${options.project} (STRATA_PROJECT) yet`,
    { variable: "STRATA_REPO", project: options.project },
  );
}

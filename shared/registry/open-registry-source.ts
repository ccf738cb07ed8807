import type { KafkaAccess, RegistrySourceConfig } from "../config/env.js";
import { createKafka, kafkaConnection } from "../changelog/kafka-client.js";
import { log } from "../log.js";
import { kafkaRegistrySource } from "../registry-log/registry-follower.js";
import { FileRegistrySource } from "./file-registry-source.js";
import type { RegistrySourceCapabilities } from "./live-registry.js";
import type { RegistrySource } from "./registry-source.js";

/** What following a project's published registry needs. */
export interface PublishedRegistryOptions {
  project: string;
  kafka: KafkaAccess;
  /** The Kafka client id of the process (e.g. `strata-serve-<region>`). */
  clientId: string;
  region?: string;
  /** Peers whose registry copies are followed too (STRATA_PEER_REGIONS). */
  peerRegions?: readonly string[];
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
  return publishedRegistrySource({
    project: config.project,
    kafka: config.kafka,
    clientId,
    region: config.region,
    peerRegions: config.peerRegions,
  });
}

/**
 * The project's published registry (`strata.<project>.registry`, and the peers' copies),
 * followed live (docs/registry.md). Kafka client warnings go to the process' log.
 */
function publishedRegistrySource(
  options: PublishedRegistryOptions,
): RegistrySource & RegistrySourceCapabilities {
  const kafka = createKafka(
    kafkaConnection(options.kafka, options.clientId),
    (level, message, fields) => log(level, message, fields as Record<string, unknown>),
  );
  return kafkaRegistrySource({
    kafka,
    project: options.project,
    region: options.region,
    peerRegions: options.peerRegions,
  });
}

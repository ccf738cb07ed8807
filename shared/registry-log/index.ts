// The registry as a replicated Kafka log: what `strata plan` / `strata apply` publish and what
// serving and the consumer follow (docs/registry.md).
export {
  REGISTRY_FORMAT,
  compareRegistries,
  decodePublishedRegistry,
  encodePublishedRegistry,
  registryRecordKey,
  type PublishedBreaking,
  type PublishedRegistry,
  type ValidRegistryRecord,
} from "./published-registry.js";
export {
  ensureRegistryTopics,
  registryReaderGroupPrefix,
  registryTopic,
  registryTopics,
  replicatedRegistryTopic,
} from "./registry-topics.js";
export { RegistryLogs, type RecordOutcome, type RegistryEntry } from "./registry-order.js";
export {
  DEFAULT_REGISTRY_TIMEOUT_MS,
  readPublishedRegistry,
  type PublishedState,
  type ReadPublishedOptions,
  type RefusedRecord,
} from "./read-published.js";
export { diffDefinitions, type PlanChange } from "./registry-diff.js";
export { flagReuse, type HistoricalDefinition } from "./registry-history.js";
export {
  planFrom,
  planRegistry,
  type PlanBase,
  type PlanRegistryOptions,
  type RegistryPlan,
} from "./registry-plan.js";
export { planLines, renderPlan, type PlanLine } from "./render-plan.js";
export {
  applyRegistry,
  defaultAppliedBy,
  type ApplyRegistryOptions,
  type ApplyResult,
} from "./registry-apply.js";
export { kafkaRegistrySource, type KafkaRegistrySourceOptions } from "./registry-follower.js";
export { strataVersion } from "./strata-version.js";

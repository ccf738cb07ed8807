export * from "./coordinator.js";
export * from "./state.js";
export { BackfillLease, DEFAULT_LEASE_MS } from "./lease.js";
export { BackfillStateStore } from "./state-store.js";
export { backfillTopic, BACKFILL_HEADERS } from "./backfill-topic.js";
export { ManifestSum } from "./manifest.js";
export { SourceReader, EVENT_TIME_COLUMN } from "./source.js";
export { serviceReadiness, type ServiceReadiness, type ViewReadiness } from "./readiness.js";

export {
  reconcileRegions,
  type ReconcileOptions,
  type ReconcileProgress,
  type ReconcileReport,
  type RepairedKey,
  type UnrepairedKey,
  type ViewReport,
} from "./reconcile.js";
export { RegionDigest, type Region } from "./region-digest.js";
export { SlotDigests, SLOT_COUNT, sameDigest, type RangeDigest } from "./slot-digest.js";
export { drillDown, type DrillDownResult, type RangeSource } from "./drill-down.js";
export { openKafkaPublisher, type ChangelogPublisher } from "./publisher.js";
export { readChangelogLatest, type ChangelogLatest } from "./changelog-latest.js";
export { pickWinner, winnerRecord } from "./winner-record.js";

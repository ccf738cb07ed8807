export {
  checkPeers,
  planReplication,
  type PeerRegion,
  type ReplicationOptions,
  type ReplicationPlan,
} from "./peer-regions.js";
export {
  waitForReplication,
  type PeerReplication,
  type ReplicationReport,
  type WrittenRow,
} from "./replication-wait.js";

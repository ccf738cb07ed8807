export * from "./online-store.js";
export type { DegradedRow, FeatureStatus, EntityResult, ReadResult } from "./read-path.js";
export type { WriteRow } from "./write-path.js";
export { execBatch, type RedisClient } from "./pipeline.js";
export { diffChecksums, regionChecksum, type ViewChecksum } from "./checksum.js";
export { connectFailFast } from "./connect.js";
export { scanMasters } from "./scan.js";

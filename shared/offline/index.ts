export * from "./table-names.js";
export { projectRecord, ROUTE_FIELD, OFFLINE_COLUMNS } from "./connect-record.js";
export * from "./projector.js";
export * from "./sink-config.js";
export * from "./topics.js";
export * from "./commit-lag.js";
export * from "./connect-rest.js";

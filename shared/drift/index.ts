export * from "./baseline.js";
export * from "./baseline-store.js";
export * from "./metric-names.js";
export * from "./statistics.js";
export * from "./baseline-build.js";
export * from "./prometheus-client.js";
export * from "./evaluate.js";

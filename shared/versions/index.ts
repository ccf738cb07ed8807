export * from "./hlc.js";
export * from "./version.js";
export * from "./clock-vector.js";
export * from "./event-time.js";

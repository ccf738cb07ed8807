export * from "./hlc.js";
export * from "./version.js";
export * from "./clock-vector.js";

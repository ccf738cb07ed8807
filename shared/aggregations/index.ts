export * from "./window-math.js";
export * from "./redis-fields.js";

export * from "./window-math.js";
export * from "./redis-fields.js";
export * from "./read-plan.js";
export * from "./compute.js";
export * from "./read-aggregates.js";
export * from "./event.js";
export * from "./apply-call.js";

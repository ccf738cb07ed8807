export * from "./hot-cache.js";
export * from "./frequency-sketch.js";

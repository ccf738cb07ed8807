export * from "./definitions.js";
export * from "./feature-types.js";
export * from "./feature-registry.js";
export * from "./semver.js";
export * from "./value-codec.js";
export * from "./load-repo.js";
export * from "./definition-hash.js";
export * from "./registry-source.js";

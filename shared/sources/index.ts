export * from "./cdc-connectors.js";
export * from "./cdc-databases.js";
export * from "./cdc-mapper.js";
export * from "./change-mapper.js";
export * from "./column-value.js";
export * from "./debezium-config.js";
export * from "./debezium-event.js";

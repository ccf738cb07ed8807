import { offlineConnectorName, offlineControlTopic, offlineTopic } from "./names.js";

// Stand-in for the sink helper's shared/offline/sink-config.ts (same API, same output) until
// that file is on main: then import icebergSinkConnector from there and delete this one.

/** Where the Iceberg tables are registered; `properties` become `iceberg.catalog.<key>`. */
export type OfflineCatalog =
  | { type: "hadoop"; warehouse: string; properties?: Record<string, string> }
  | { type: "glue"; warehouse: string; properties?: Record<string, string> }
  | { type: "rest"; uri: string; warehouse?: string; properties?: Record<string, string> };

export interface IcebergSinkOptions {
  project: string;
  catalog: OfflineCatalog;
  /** iceberg.control.commit.interval-ms: the bound on a table's lag. */
  commitIntervalMs?: number;
  tasks?: number;
}

/** The field of each record naming its table (`<namespace>.<table>`): dynamic routing. */
const ROUTE_FIELD = "strata_table";

function catalogProperties(catalog: OfflineCatalog): Record<string, string> {
  const base: Record<string, string> =
    catalog.type === "hadoop"
      ? { "iceberg.catalog.type": "hadoop", "iceberg.catalog.warehouse": catalog.warehouse }
      : catalog.type === "glue"
        ? {
            "iceberg.catalog.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
            "iceberg.catalog.warehouse": catalog.warehouse,
            "iceberg.catalog.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
          }
        : {
            "iceberg.catalog.type": "rest",
            "iceberg.catalog.uri": catalog.uri,
            ...(catalog.warehouse ? { "iceberg.catalog.warehouse": catalog.warehouse } : {}),
          };
  for (const [key, value] of Object.entries(catalog.properties ?? {})) {
    base[`iceberg.catalog.${key}`] = value;
  }
  return base;
}

/** The connector's name and configuration, as Connect's REST API and Strimzi take them. */
export function icebergSinkConnector(options: IcebergSinkOptions): {
  name: string;
  config: Record<string, string>;
} {
  const { project } = options;
  return {
    name: offlineConnectorName(project),
    config: {
      "connector.class": "org.apache.iceberg.connect.IcebergSinkConnector",
      "tasks.max": String(options.tasks ?? 1),
      topics: offlineTopic(project),
      "key.converter": "org.apache.kafka.connect.storage.StringConverter",
      "value.converter": "org.apache.kafka.connect.json.JsonConverter",
      "value.converter.schemas.enable": "true",
      "errors.tolerance": "none",
      "iceberg.tables.dynamic-enabled": "true",
      "iceberg.tables.route-field": ROUTE_FIELD,
      "iceberg.tables.auto-create-enabled": "true",
      "iceberg.tables.evolve-schema-enabled": "true",
      "iceberg.tables.default-partition-by": "day(event_timestamp)",
      "iceberg.control.topic": offlineControlTopic(project),
      "iceberg.control.commit.interval-ms": String(options.commitIntervalMs ?? 60_000),
      ...catalogProperties(options.catalog),
    },
  };
}

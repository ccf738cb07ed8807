import { ROUTE_FIELD } from "./connect-record.js";
import { offlineConnectorName, offlineControlTopic, offlineTopic } from "./topics.js";

/**
 * Where the Iceberg tables are registered. `hadoop`: a warehouse folder (or bucket) whose
 * table metadata is found by path, the local stack's; `glue` and `rest`: a catalog service,
 * the clouds'. Anything else the sink's catalog takes goes in `properties`
 * (`iceberg.catalog.<key>`), e.g. `io-impl` or `s3.endpoint`.
 */
export type OfflineCatalog =
  | { type: "hadoop"; warehouse: string; properties?: Record<string, string> }
  | { type: "glue"; warehouse: string; properties?: Record<string, string> }
  | { type: "rest"; uri: string; warehouse?: string; properties?: Record<string, string> };

export interface IcebergSinkOptions {
  project: string;
  catalog: OfflineCatalog;
  /**
   * How often the sink commits what its tasks wrote (iceberg.control.commit.interval-ms): the
   * bound on how old the newest row of a table can be. Default 60,000.
   */
  commitIntervalMs?: number;
  /** Tasks writing in parallel; more than the offline topic's partitions would idle. Default 1. */
  tasks?: number;
}

export const DEFAULT_COMMIT_INTERVAL_MS = 60_000;

const CATALOG_IMPL = {
  glue: "org.apache.iceberg.aws.glue.GlueCatalog",
} as const;

/** The file URI Hadoop's local file system needs for a plain path. */
function warehouseUri(warehouse: string): string {
  return warehouse.startsWith("/") ? `file://${warehouse}` : warehouse;
}

function catalogProperties(catalog: OfflineCatalog): Record<string, string> {
  const base: Record<string, string> =
    catalog.type === "hadoop"
      ? {
          "iceberg.catalog.type": "hadoop",
          "iceberg.catalog.warehouse": warehouseUri(catalog.warehouse),
        }
      : catalog.type === "glue"
        ? {
            "iceberg.catalog.catalog-impl": CATALOG_IMPL.glue,
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

/**
 * The Kafka Connect configuration of a project's Iceberg sink connector
 * (`strata-<project>-offline`, docs/offline-store.md): what the projector registers on a
 * local Connect worker and what the Pulumi stacks declare in the clouds. One function, so
 * both write the same tables the same way.
 *
 * Records are routed by their `strata_table` field (dynamic routing: a new view major needs
 * no connector change), and a table is created on its first record from the record's schema,
 * partitioned by day(event_timestamp). Schema evolution is on, so a new minor version's
 * features become new columns.
 */
export function icebergSinkConfig(options: IcebergSinkOptions): Record<string, string> {
  const { project } = options;
  return {
    "connector.class": "org.apache.iceberg.connect.IcebergSinkConnector",
    "tasks.max": String(options.tasks ?? 1),
    topics: offlineTopic(project),
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter.schemas.enable": "true",
    // Fail rather than skip: a record the sink cannot write must stop it, never vanish.
    "errors.tolerance": "none",
    "iceberg.tables.dynamic-enabled": "true",
    "iceberg.tables.route-field": ROUTE_FIELD,
    "iceberg.tables.auto-create-enabled": "true",
    "iceberg.tables.evolve-schema-enabled": "true",
    "iceberg.tables.default-partition-by": "day(event_timestamp)",
    "iceberg.control.topic": offlineControlTopic(project),
    "iceberg.control.commit.interval-ms": String(
      options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS,
    ),
    ...catalogProperties(options.catalog),
  };
}

/** The connector's name and configuration, as Connect's REST API takes them. */
export function icebergSinkConnector(options: IcebergSinkOptions): {
  name: string;
  config: Record<string, string>;
} {
  return { name: offlineConnectorName(options.project), config: icebergSinkConfig(options) };
}

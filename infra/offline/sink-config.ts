import {
  offlineConnectorName,
  offlineControlTopic,
  offlineNamespace,
  offlineTopic,
} from "./names.js";

/**
 * The Iceberg sink connector's configuration, as Kafka Connect's REST API and Strimzi's
 * KafkaConnector take it.
 *
 * Stand-in until `shared/offline/sink-config.ts` (the sink helper's, same shape) is on main:
 * replace this function by that one. What stays here is the deployment's part (catalog, control
 * topic, commit interval, the Kafka client of the control topic), which `catalog` and
 * `controlClient` carry in.
 */
export interface SinkConnectorConfig {
  name: string;
  config: Record<string, string>;
}

export interface SinkConfigInput {
  project: string;
  commitIntervalMs: number;
  /** `iceberg.catalog.*` properties of the cloud's catalog (Glue, Hadoop on ADLS or S3). */
  catalog: Record<string, string>;
  /** `iceberg.kafka.*`: how the sink's own control-topic clients log in to Kafka. */
  controlClient?: Record<string, string>;
  tasksMax?: number;
}

export function offlineSinkConfig(input: SinkConfigInput): SinkConnectorConfig {
  const { project } = input;
  return {
    name: offlineConnectorName(project),
    config: {
      "connector.class": "org.apache.iceberg.connect.IcebergSinkConnector",
      "tasks.max": String(input.tasksMax ?? 1),
      topics: offlineTopic(project),
      "key.converter": "org.apache.kafka.connect.storage.StringConverter",
      "value.converter": "org.apache.kafka.connect.json.JsonConverter",
      "value.converter.schemas.enable": "false",
      // One topic fans out to a table per view major, named by a field of each record.
      "iceberg.tables.dynamic-enabled": "true",
      "iceberg.tables.route-field": "strata_table",
      "iceberg.tables.auto-create-enabled": "true",
      "iceberg.tables.default-partition-by": "day(event_timestamp)",
      "iceberg.tables.default-namespace": offlineNamespace(project),
      "iceberg.control.topic": offlineControlTopic(project),
      "iceberg.control.group-id-prefix": offlineControlTopic(project),
      "iceberg.control.commit.interval-ms": String(input.commitIntervalMs),
      ...input.catalog,
      ...(input.controlClient ?? {}),
    },
  };
}

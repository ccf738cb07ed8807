/**
 * The local Kafka Connect worker's properties: distributed mode (the REST API registers
 * connectors; its configs, offsets and statuses live in Kafka topics, so a restart resumes),
 * on one broker (replication factor 1 for its internal topics), REST on loopback only.
 */
export function renderConnectProperties(options: {
  bootstrap: string;
  restPort: number;
  host: string;
  /** Folders of isolated plugins (Debezium); the Iceberg sink stays on the classpath. */
  pluginPath: string;
}): string {
  const properties: Record<string, string | number> = {
    "bootstrap.servers": options.bootstrap,
    "group.id": "strata-connect",
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "config.storage.topic": "strata-connect-configs",
    "offset.storage.topic": "strata-connect-offsets",
    "status.storage.topic": "strata-connect-status",
    "config.storage.replication.factor": 1,
    "offset.storage.replication.factor": 1,
    "status.storage.replication.factor": 1,
    "offset.storage.partitions": 1,
    "status.storage.partitions": 1,
    listeners: `http://${options.host}:${options.restPort}`,
    "rest.advertised.host.name": options.host,
    "rest.advertised.port": options.restPort,
    // A sink task calls the connector's put() only this often while its topics are idle, and
    // the Iceberg sink answers its coordinator's commit requests (and joins its control topic)
    // only inside put(): with Connect's default 60 s, an idle table's commits wait for the
    // commit timeout and a new connector needs minutes before its first commit.
    "offset.flush.interval.ms": 1_000,
    // Plugins found by their service manifests only (Kafka's, the Iceberg sink's and Debezium's
    // jars declare theirs): scanning every class by reflection made most of the worker's start.
    "plugin.discovery": "service_load",
    "plugin.path": options.pluginPath,
    // Connectors may reference a secret file as ${dir:<folder>:<file>} (the CDC database
    // password): the worker reads it, so it never sits in a connector's config.
    "config.providers": "dir",
    "config.providers.dir.class": "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
  };
  return Object.entries(properties)
    .map(([key, value]) => `${key}=${value}`)
    .join("\n")
    .concat("\n");
}

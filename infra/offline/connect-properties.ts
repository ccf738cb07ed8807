/**
 * Kafka Connect in standalone mode (one worker, the connector from a file): what the Azure
 * Container App runs, so that no REST call is needed to create the connector and no Connect
 * internal topic is needed on Event Hubs. A sink's progress lives in its consumer group and in
 * Iceberg's own commit metadata, not in the standalone offsets file.
 */

/** Java properties text (`key=value` lines); values here carry no newline or backslash. */
export function toProperties(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([key, value]) => {
      if (/[\n\\]/.test(value)) throw new Error(`property ${key} holds a newline or backslash`);
      return `${key}=${value}`;
    })
    .join("\n");
}

/** SASL PLAIN over TLS with an Event Hubs connection string read from an environment variable. */
export function eventHubsClient(prefix: string, secretEnv: string): Record<string, string> {
  return {
    [`${prefix}security.protocol`]: "SASL_SSL",
    [`${prefix}sasl.mechanism`]: "PLAIN",
    [`${prefix}sasl.jaas.config`]:
      'org.apache.kafka.common.security.plain.PlainLoginModule required username="$ConnectionString" password="${env:' +
      secretEnv +
      '}";',
  };
}

/** The standalone worker: Event Hubs' Kafka endpoint, REST on loopback only. */
export function standaloneWorker(bootstrap: string, secretEnv: string): Record<string, string> {
  return {
    "bootstrap.servers": bootstrap,
    ...eventHubsClient("", secretEnv),
    ...eventHubsClient("consumer.", secretEnv),
    "config.providers": "env",
    "config.providers.env.class": "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "offset.storage.file.filename": "/tmp/connect.offsets",
    "plugin.path": "/opt/kafka/plugins",
    listeners: "http://127.0.0.1:8083",
  };
}

/** The container's command: write both files from the environment, then run the worker. */
export const CONNECT_STANDALONE_COMMAND = [
  "sh",
  "-c",
  'printf "%s" "$CONNECT_WORKER" > /tmp/worker.properties && printf "%s" "$CONNECT_SINK" > /tmp/sink.properties && exec /opt/kafka/bin/connect-standalone.sh /tmp/worker.properties /tmp/sink.properties',
];

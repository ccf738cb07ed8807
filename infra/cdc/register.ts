/**
 * The registration side of a self-run Connect worker (Azure): Connect in distributed mode keeps
 * a source connector's offsets (Debezium's log position) in Kafka, which survives a restart,
 * but takes its connectors through the REST API only. A sidecar PUTs each connector's config
 * (create or update, idempotent) once the worker answers, then idles; a restarted sidecar
 * simply PUTs again.
 */

/** The variable that carries connector `i`'s config JSON into the sidecar. */
export function connectorEnvName(i: number): string {
  return `CDC_CONNECTOR_${i}`;
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** `sh -c` script of the sidecar: the names are checked, the configs come from the environment. */
export function registerConnectorsScript(names: readonly string[], restPort = 8083): string {
  for (const name of names) {
    if (!NAME.test(name)) throw new Error(`connector name ${JSON.stringify(name)} is not URL-safe`);
  }
  return [
    "set -u",
    `register() { until curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/json' --data "$2" "http://127.0.0.1:${restPort}/connectors/$1/config"; do sleep 10; done; echo "registered $1"; }`,
    ...names.map((name, i) => `register ${name} "$${connectorEnvName(i)}"`),
    "while true; do sleep 3600; done",
  ].join("\n");
}

/**
 * What every cloud's CDC pieces share: the Debezium plugin (its Maven coordinates, the
 * connector class), the archive the build produces, and the names of the CDC Connect cluster
 * (its group and internal topics), distinct from the offline sink's.
 */

/** Every Debezium module at this version (dev/connect/debezium/pom.xml says the same). */
export const DEBEZIUM_VERSION = "3.6.1.Final";
export const DEBEZIUM_POSTGRES_ARTIFACT = {
  group: "io.debezium",
  artifact: "debezium-connector-postgres",
  version: DEBEZIUM_VERSION,
} as const;

/** What `npm run build:cdc-plugin` writes (scripts/build-cdc-plugin.ts), relative to the repo. */
export const PLUGIN_ARCHIVE = `artifacts/cdc/strata-debezium-postgres-${DEBEZIUM_VERSION}.zip`;

/** The Connect worker group and internal topics of the CDC workers (Azure, Strimzi). */
export function cdcConnectClusterNames(project: string) {
  const base = `strata.${project}.cdc-connect`;
  return {
    groupId: base,
    configTopic: `${base}-configs`,
    offsetTopic: `${base}-offsets`,
    statusTopic: `${base}-status`,
  };
}

/**
 * The variable a database's password reaches a Connect worker in (Azure, where Kafka's
 * EnvVarConfigProvider resolves `${env:...}`): `CDC_PASSWORD_<DATABASE>`, upper case, `-` as `_`.
 */
export function passwordEnvName(database: string): string {
  return `CDC_PASSWORD_${database.toUpperCase().replace(/-/g, "_")}`;
}

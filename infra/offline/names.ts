/**
 * Names of the offline store's pieces, the same on every cloud (CONTRACTS.md): the topics the
 * sink and the backfill coordinator use, the sink connector, and the Iceberg namespace.
 */

/** The offline projection's topic (produced by the consumer, read by the sink). */
export function offlineTopic(project: string): string {
  return `strata.${project}.offline`;
}

/** The Kafka Connect Iceberg sink connector of a project. */
export function offlineConnectorName(project: string): string {
  return `strata-${project}-offline`;
}

/** The sink's control topic (Iceberg's commit coordination), kept inside the project's prefix. */
export function offlineControlTopic(project: string): string {
  return `strata.${project}.offline.control`;
}

/** The prefix of the consumer groups Iceberg's workers and coordinator read the control topic in. */
export function offlineControlGroupPrefix(project: string): string {
  return `strata.${project}.offline.control`;
}

/** Kafka Connect's consumer group of a sink connector (`connect-<connector>`). */
export function sinkConsumerGroup(project: string): string {
  return `connect-${offlineConnectorName(project)}`;
}

/** The Connect worker group and its three internal topics (self-managed Connect: Azure, Strimzi). */
export function connectClusterNames(project: string) {
  const base = `strata.${project}.connect`;
  return {
    groupId: base,
    configTopic: `${base}-configs`,
    offsetTopic: `${base}-offsets`,
    statusTopic: `${base}-status`,
  };
}

/** The backfill coordinator's topic: a backfill's rows on their way into the new generation. */
export function backfillTopic(project: string): string {
  return `strata.${project}.backfill`;
}

/** Consumer groups of the backfill writers (`strata.<project>.backfill...`). */
export function backfillGroupPrefix(project: string): string {
  return `strata.${project}.backfill`;
}

/**
 * The Iceberg namespace of the project's tables (shared/offline/table-names.ts): `strata_<project>`
 * with `-` and `.` as `_`. Glue stores database names in lowercase, so the catalogs use that.
 */
export function offlineNamespace(project: string): string {
  return `strata_${project.replace(/[-.]/g, "_")}`.toLowerCase();
}

/** The folder (object prefix) of the warehouse inside its bucket or container. */
export const WAREHOUSE_PREFIX = "warehouse";

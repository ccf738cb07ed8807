/**
 * Names of the offline store's pieces, the same on every cloud (CONTRACTS.md): the sink's
 * topics and connector (shared/offline/topics.ts), Connect's own, the backfill coordinator's,
 * and the Iceberg namespace.
 */

export {
  offlineConnectorName,
  offlineControlTopic,
  offlineTopic,
  offlineSinkGroupId as sinkConsumerGroup,
} from "../../shared/offline/topics.js";
import { offlineControlTopic } from "../../shared/offline/topics.js";

/** The prefix of the consumer groups Iceberg's workers and coordinator read the control topic in. */
export function offlineControlGroupPrefix(project: string): string {
  return offlineControlTopic(project);
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

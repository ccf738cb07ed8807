import { createHash } from "node:crypto";
import type { CdcSourceDefinition } from "../registry/definitions.js";

/** How Debezium reaches one PostgreSQL database (one entry of STRATA_CDC_DATABASES, resolved). */
export interface DebeziumConnection {
  host: string;
  port: number;
  dbname: string;
  user: string;
  /**
   * The value of `database.password`: a Kafka Connect config-provider reference
   * (`${secretsmanager:...}`, `${secrets:...}`, `${file:/path:key}`), which the worker resolves
   * so the secret never sits in the connector config, or, on the local stack only, the
   * password itself.
   */
  password: string;
  /** Default `disable`; `verify-full` checks the server certificate against `sslRootCert`. */
  sslmode?: "disable" | "require" | "verify-full";
  /** The root certificate file on the worker (or a config-provider reference to one). */
  sslRootCert?: string;
}

/** A connector as Kafka Connect's REST API and the clouds' connector resources take it. */
export interface DebeziumConnector {
  name: string;
  config: Record<string, string>;
}

/** PostgreSQL's limit on replication slot and publication names (NAMEDATALEN - 1). */
const MAX_PG_NAME = 63;

/** `strata-<project>-cdc-<database>`: one connector per project and database. */
export function cdcConnectorName(project: string, database: string): string {
  return `strata-${project}-cdc-${database}`;
}

/** `strata.<project>.cdc`: table topics are `<prefix>.<schema>.<table>`. */
export function cdcTopicPrefix(project: string): string {
  return `strata.${project}.cdc`;
}

/** The Kafka topic Debezium writes a table's changes to (`table` is `<schema>.<table>`). */
export function cdcTableTopic(project: string, table: string): string {
  return `${cdcTopicPrefix(project)}.${table}`;
}

/**
 * `strata_<project>_<database>` lower-cased with every character outside [a-z0-9_] turned into
 * `_`: the replication slot and the publication of one connector. PostgreSQL cuts names at 63
 * bytes, so a longer one keeps its first 54 characters and a hash of the whole name, which
 * keeps two long names from colliding.
 */
export function cdcSlotName(project: string, database: string): string {
  const name = `strata_${project}_${database}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  if (name.length <= MAX_PG_NAME) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, 8);
  return `${name.slice(0, MAX_PG_NAME - 9)}_${hash}`;
}

/** A table name as a regular expression matching exactly it (table.include.list takes regexes). */
function exactTable(table: string): string {
  return table.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The Debezium PostgreSQL connector that captures `database`'s tables among `sources`: what
 * the CDC mapper registers on the local Connect worker and what the cloud stacks declare. One
 * function, so every deployment captures the same tables into the same topics.
 *
 * pgoutput (built into PostgreSQL 10+), a publication of exactly the captured tables (Debezium
 * creates and updates it), an initial snapshot of each table before streaming, and JSON
 * without schemas: numerics as strings (exact), times as epoch milliseconds. Deletes produce no
 * Kafka tombstone: the mapper reads the delete event itself, which carries the old key.
 */
export function debeziumConnectorConfig(
  project: string,
  database: string,
  sources: readonly CdcSourceDefinition[],
  connection: DebeziumConnection,
): DebeziumConnector {
  const tables = [
    ...new Set(sources.filter((source) => source.database === database).map((s) => s.table)),
  ].sort();
  const slot = cdcSlotName(project, database);
  const sslmode = connection.sslmode ?? "disable";
  const config: Record<string, string> = {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "tasks.max": "1",
    "plugin.name": "pgoutput",
    "database.hostname": connection.host,
    "database.port": String(connection.port),
    "database.user": connection.user,
    "database.password": connection.password,
    "database.dbname": connection.dbname,
    "database.sslmode": sslmode,
    "topic.prefix": cdcTopicPrefix(project),
    "slot.name": slot,
    "publication.name": slot,
    "publication.autocreate.mode": "filtered",
    "table.include.list": tables.map(exactTable).join(","),
    "snapshot.mode": "initial",
    "decimal.handling.mode": "string",
    "time.precision.mode": "connect",
    "tombstones.on.delete": "false",
    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
    "key.converter.schemas.enable": "false",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter.schemas.enable": "false",
    // Connect creates the table topics with the broker's defaults (partitions, replication).
    "topic.creation.default.replication.factor": "-1",
    "topic.creation.default.partitions": "-1",
  };
  if (connection.sslRootCert !== undefined) {
    config["database.sslrootcert"] = connection.sslRootCert;
  }
  return { name: cdcConnectorName(project, database), config };
}

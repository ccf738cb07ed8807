import { readFileSync } from "node:fs";
import path from "node:path";
import { show, StrataError } from "../errors.js";
import type { DebeziumConnection } from "./debezium-config.js";

/** One database of STRATA_CDC_DATABASES: where Debezium connects, and where its password is. */
export interface CdcDatabase {
  host: string;
  port: number;
  dbname: string;
  user: string;
  /** An environment variable of the ingest process holding the password. */
  passwordEnv?: string;
  /** A file holding the password (nothing else), readable by the Connect worker too. */
  passwordFile?: string;
  /** Default `disable`. */
  sslmode?: "disable" | "require" | "verify-full";
  sslRootCert?: string;
}

const SSL_MODES = new Set(["disable", "require", "verify-full"]);

function invalid(message: string, details: Record<string, unknown> = {}): StrataError {
  return new StrataError("STRATA_E_CDC_CONFIG", `STRATA_CDC_DATABASES: ${message}`, details);
}

function text(entry: Record<string, unknown>, name: string, field: string): string {
  const value = entry[field];
  if (typeof value !== "string" || value === "") {
    throw invalid(`database "${name}" needs a non-empty string "${field}", not ${show(value)}`);
  }
  return value;
}

/**
 * Parses STRATA_CDC_DATABASES: JSON `{"<database>": {host, port, dbname, user,
 * passwordEnv | passwordFile, sslmode?, sslRootCert?}}` (docs/sources.md). Throws
 * STRATA_E_CDC_CONFIG naming what is wrong.
 */
export function parseCdcDatabases(json: string | undefined): Record<string, CdcDatabase> {
  if (json === undefined || json.trim() === "") throw invalid("is not set");
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw invalid(`is not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw invalid("is not a JSON object of database name to connection");
  }
  const databases: Record<string, CdcDatabase> = {};
  for (const [name, raw] of Object.entries(parsed)) {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw invalid(`database "${name}" is not an object`);
    }
    const entry = raw as Record<string, unknown>;
    const port = entry.port;
    if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65_535) {
      throw invalid(`database "${name}" has port ${show(port)}, not a TCP port`);
    }
    const sslmode = entry.sslmode ?? "disable";
    if (typeof sslmode !== "string" || !SSL_MODES.has(sslmode)) {
      throw invalid(
        `database "${name}" has sslmode ${show(sslmode)}, not disable, require or verify-full`,
      );
    }
    const database: CdcDatabase = {
      host: text(entry, name, "host"),
      port: port as number,
      dbname: text(entry, name, "dbname"),
      user: text(entry, name, "user"),
      sslmode: sslmode as CdcDatabase["sslmode"],
    };
    if (entry.passwordEnv !== undefined) database.passwordEnv = text(entry, name, "passwordEnv");
    if (entry.passwordFile !== undefined) database.passwordFile = text(entry, name, "passwordFile");
    if ((database.passwordEnv === undefined) === (database.passwordFile === undefined)) {
      throw invalid(`database "${name}" needs exactly one of "passwordEnv" and "passwordFile"`);
    }
    if (entry.sslRootCert !== undefined) database.sslRootCert = text(entry, name, "sslRootCert");
    databases[name] = database;
  }
  return databases;
}

/**
 * The connection Debezium gets. A password file is passed as a reference to Kafka's
 * DirectoryConfigProvider (`${dir:<folder>:<file>}`), which the worker resolves, so the
 * password never sits in the connector config (the worker needs `config.providers=dir`, as the
 * local stack's has). A password from the environment is read here and passed as it is.
 */
export function debeziumConnection(
  name: string,
  database: CdcDatabase,
  env: NodeJS.ProcessEnv = process.env,
): DebeziumConnection {
  let password: string;
  if (database.passwordFile !== undefined) {
    const file = path.resolve(database.passwordFile);
    password = `\${dir:${path.dirname(file)}:${path.basename(file)}}`;
  } else {
    const value = env[database.passwordEnv!];
    if (value === undefined) {
      throw invalid(
        `database "${name}" reads its password from ${database.passwordEnv}, which is not set`,
      );
    }
    password = value;
  }
  return {
    host: database.host,
    port: database.port,
    dbname: database.dbname,
    user: database.user,
    password,
    ...(database.sslmode ? { sslmode: database.sslmode } : {}),
    ...(database.sslRootCert ? { sslRootCert: database.sslRootCert } : {}),
  };
}

/** The password itself, for clients of Strata's own (tests, benchmarks) that connect directly. */
export function cdcPassword(database: CdcDatabase, env: NodeJS.ProcessEnv = process.env): string {
  if (database.passwordFile !== undefined) return readFileSync(database.passwordFile, "utf8");
  const value = env[database.passwordEnv!];
  if (value === undefined) throw invalid(`${database.passwordEnv} is not set`);
  return value;
}

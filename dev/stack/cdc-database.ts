import path from "node:path";
import { BASE_PORTS, LOOPBACK, portOffset } from "./endpoints.js";
import { stackPaths } from "./paths.js";

/** The logical database name the local stack's PostgreSQL is known by in STRATA_CDC_DATABASES. */
export const LOCAL_CDC_DATABASE = "local";
/** The database and role the stack creates on its PostgreSQL. */
export const LOCAL_PG_DBNAME = "strata";
export const LOCAL_PG_USER = "strata";

/** The local PostgreSQL's port (15432, STRATA_STACK_PORT_OFFSET applied). */
export function postgresPort(env: NodeJS.ProcessEnv = process.env): number {
  return BASE_PORTS.postgres + portOffset(env);
}

/** The file holding the local role's password (the Connect worker reads it through its `dir` config provider). */
export const postgresPasswordFile = path.join(stackPaths.postgres, "password");

/**
 * STRATA_CDC_DATABASES for processes run against the stack: the variable itself when set (the
 * developer's own databases; the stack then starts no PostgreSQL), else the stack's one
 * database, `local`.
 */
export function stackCdcDatabases(env: NodeJS.ProcessEnv = process.env): string {
  const own = (env.STRATA_CDC_DATABASES ?? "").trim();
  if (own !== "") return own;
  return JSON.stringify({
    [LOCAL_CDC_DATABASE]: {
      host: LOOPBACK,
      port: postgresPort(env),
      dbname: LOCAL_PG_DBNAME,
      user: LOCAL_PG_USER,
      passwordFile: postgresPasswordFile,
      sslmode: "disable",
    },
  });
}

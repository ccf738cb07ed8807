import {
  debeziumConnectorConfig,
  type DebeziumConnector,
} from "../../shared/sources/debezium-config.js";
import type { StackConfig } from "../config.js";
import type { CdcDatabase } from "./config.js";

/** How one platform's worker reaches a database's secrets: config-provider references or paths. */
export interface CdcSecretReferences {
  /** The `database.password` value: a reference the worker resolves, never the password. */
  password(database: string, db: CdcDatabase): string;
  /** The `database.sslrootcert` value: a file on the worker (or a reference resolving to one). */
  rootCert(database: string, db: CdcDatabase): string;
}

/** A Kafka config-provider reference: `${provider:path:key}` (or `${provider:path}`). */
export const CONFIG_REFERENCE = /^\$\{[a-z0-9]+:[^}]+\}$/;

/**
 * The Debezium connector of every configured database, from the same function the local stack
 * uses (shared/sources/debezium-config.ts), with the platform's references in place of the
 * secrets. Refuses a password that is not a config-provider reference, so a stack can never
 * declare one in clear.
 */
export function cdcConnectors(config: StackConfig, refs: CdcSecretReferences): DebeziumConnector[] {
  const cdc = config.cdc!;
  return Object.entries(cdc.databases).map(([database, db]) => {
    const password = refs.password(database, db);
    if (!CONFIG_REFERENCE.test(password)) {
      throw new Error(`the password of database ${database} is not a config-provider reference`);
    }
    return debeziumConnectorConfig(config.project, database, cdc.sources, {
      host: db.host,
      port: db.port,
      dbname: db.dbname,
      user: db.user,
      password,
      sslmode: db.sslmode,
      sslRootCert: refs.rootCert(database, db),
    });
  });
}

// What the CDC tests share: the stack's PostgreSQL, a table of their own, the real ingest
// process with the CDC mapper on, the Debezium connector on the stack's Connect worker, and
// cleanup of the connector, its slot and publication.
import pg from "pg";
import { stackCdcDatabases } from "../../dev/stack/cdc-database.js";
import { connectUrl } from "../../dev/stack/endpoints.js";
import { cdcPassword, parseCdcDatabases } from "../../shared/sources/cdc-databases.js";
import { cdcConnectorName, cdcSlotName } from "../../shared/sources/debezium-config.js";
import { waitForConnector } from "../../shared/sources/cdc-connectors.js";
import { startIngestProcess, type IngestProcess } from "./ingest-process.js";

export const CDC_DATABASE = "local";

/** A client of the stack's PostgreSQL (STRATA_CDC_DATABASES' `local`). */
export async function connectPostgres(): Promise<pg.Client> {
  const database = parseCdcDatabases(stackCdcDatabases())[CDC_DATABASE]!;
  const client = new pg.Client({
    host: database.host,
    port: database.port,
    user: database.user,
    password: cdcPassword(database),
    database: database.dbname,
  });
  await client.connect();
  return client;
}

/** Creates the cards table the CDC test repo captures. */
export async function createCardsTable(client: pg.Client, table: string): Promise<void> {
  await client.query(
    `create table public.${table} (id bigint primary key, credit_limit numeric(12,2), status text)`,
  );
}

/** The ingest process with the CDC mapper, registering its connector on the stack's worker. */
export function startCdcIngest(project: string, table: string, env: Record<string, string> = {}) {
  return startIngestProcess({
    project,
    region: "local",
    env: {
      STRATA_REPO: "test/support/cdc-repo-module.ts",
      STRATA_TEST_CDC_TABLE: table,
      STRATA_CDC: "on",
      STRATA_CDC_DATABASES: stackCdcDatabases(),
      STRATA_CONNECT_URL: connectUrl(),
      ...env,
    },
  });
}

/** Waits until the project's connector and its task run (Debezium is snapshotting or streaming). */
export function waitForCdcConnector(project: string, timeoutMs = 60_000): Promise<void> {
  return waitForConnector(connectUrl(), cdcConnectorName(project, CDC_DATABASE), timeoutMs);
}

/** Restarts the connector and its task through Connect's REST API, as an operator would. */
export async function restartCdcConnector(project: string): Promise<void> {
  const name = encodeURIComponent(cdcConnectorName(project, CDC_DATABASE));
  const response = await fetch(
    `${connectUrl()}/connectors/${name}/restart?includeTasks=true&onlyFailed=false`,
    { method: "POST" },
  );
  if (!response.ok && response.status !== 202 && response.status !== 204) {
    throw new Error(`restart of ${name}: ${response.status} ${await response.text()}`);
  }
}

/**
 * Removes what the test left: the ingest process, the connector, then (once Debezium let go of
 * it) the replication slot, whose retained WAL would otherwise grow, the publication and table.
 */
export async function cleanUpCdc(
  project: string,
  table: string,
  client: pg.Client | undefined,
  ingest: IngestProcess | undefined,
): Promise<void> {
  await ingest?.stop();
  const name = encodeURIComponent(cdcConnectorName(project, CDC_DATABASE));
  await fetch(`${connectUrl()}/connectors/${name}`, { method: "DELETE" }).catch(() => undefined);
  if (!client) return;
  const slot = cdcSlotName(project, CDC_DATABASE);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { rows } = await client.query<{ active: boolean }>(
      "select active from pg_replication_slots where slot_name = $1",
      [slot],
    );
    if (rows.length === 0) break;
    if (!rows[0]!.active) {
      await client.query("select pg_drop_replication_slot($1)", [slot]);
      break;
    }
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await client.query(`drop publication if exists ${slot}`);
  await client.query(`drop table if exists public.${table}`);
  await client.end();
}

import { isStrataError, StrataError } from "../errors.js";
import { connectorStatus, ensureConnector } from "../offline/connect-rest.js";
import type { FeatureRegistry } from "../registry/feature-registry.js";
import { debeziumConnection, type CdcDatabase } from "./cdc-databases.js";
import { debeziumConnectorConfig, type DebeziumConnector } from "./debezium-config.js";

/** Every Debezium connector the registry's cdc sources need: one per database they name. */
export function cdcConnectors(
  registry: FeatureRegistry,
  databases: Readonly<Record<string, CdcDatabase>>,
): DebeziumConnector[] {
  const sources = registry.cdcSources();
  const names = [...new Set(sources.map((source) => source.database))].sort();
  return names.map((name) => {
    const database = databases[name];
    if (database === undefined) {
      throw new StrataError(
        "STRATA_E_CDC_CONFIG",
        `STRATA_CDC_DATABASES has no database "${name}", which cdc source ${sources.find((s) => s.database === name)!.name} names`,
        { database: name, known: Object.keys(databases) },
      );
    }
    return debeziumConnectorConfig(
      registry.project,
      name,
      sources,
      debeziumConnection(name, database),
    );
  });
}

/**
 * Registers (or updates, when its config changed) each database's connector on the Connect
 * worker at `connectUrl`; without one, only checks the configuration (the connectors are
 * declared by the deployment). Throws STRATA_E_CDC_CONFIG or STRATA_E_CDC_CONNECTOR.
 */
export async function ensureCdcConnectors(
  registry: FeatureRegistry,
  databases: Readonly<Record<string, CdcDatabase>>,
  connectUrl: string | undefined,
  observer: { connector?: (name: string, change: string) => void } = {},
): Promise<DebeziumConnector[]> {
  const connectors = cdcConnectors(registry, databases);
  if (connectUrl === undefined) return connectors;
  for (const { name, config } of connectors) {
    let change: string;
    try {
      change = await ensureConnector(connectUrl, name, config);
    } catch (error) {
      throw connectorError(name, error);
    }
    observer.connector?.(name, change);
  }
  return connectors;
}

/**
 * Waits until the connector and all its tasks run. Throws STRATA_E_CDC_CONNECTOR with the
 * task's trace as soon as one failed, or when `timeoutMs` passes.
 */
export async function waitForConnector(
  connectUrl: string,
  name: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await connectorStatus(connectUrl, name).catch((error: unknown) => {
      throw connectorError(name, error);
    });
    const failed = status?.tasks.find((task) => task.state === "FAILED");
    if (failed || status?.connector === "FAILED") {
      throw new StrataError("STRATA_E_CDC_CONNECTOR", `connector ${name} failed`, {
        connector: name,
        trace: failed?.trace?.slice(0, 2_000),
      });
    }
    if (
      status?.connector === "RUNNING" &&
      status.tasks.length > 0 &&
      status.tasks.every((task) => task.state === "RUNNING")
    ) {
      return;
    }
    if (Date.now() > deadline) {
      throw new StrataError(
        "STRATA_E_CDC_CONNECTOR",
        `connector ${name} was not running within ${timeoutMs} ms`,
        { connector: name, status },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function connectorError(name: string, error: unknown): StrataError {
  if (isStrataError(error) && error.code === "STRATA_E_CDC_CONNECTOR") return error;
  return new StrataError(
    "STRATA_E_CDC_CONNECTOR",
    `connector ${name}: ${(error as Error).message}`,
    { connector: name },
    { cause: error },
  );
}

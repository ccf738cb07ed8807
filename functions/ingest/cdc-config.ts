import { badConfig, EnvReader } from "../../shared/config/env.js";
import { parseCdcDatabases, type CdcDatabase } from "../../shared/sources/cdc-databases.js";

/** The CDC mapper's settings (docs/sources.md, "Running the mapper"). */
export interface CdcConfig {
  /** STRATA_CDC=on: run the CDC mapper in this process (default off). */
  enabled: boolean;
  /** STRATA_CDC_DATABASES, parsed (required when enabled). */
  databases: Record<string, CdcDatabase>;
  /** STRATA_CONNECT_URL: where the Debezium connectors are registered; none: declared elsewhere. */
  connectUrl?: string;
  /** STRATA_CDC_CHUNK: change events per changelog write and offset commit (default 1,000). */
  chunkSize: number;
}

export function loadCdcConfig(env: NodeJS.ProcessEnv = process.env): CdcConfig {
  const read = new EnvReader(env);
  const flag = read.get("STRATA_CDC") ?? "off";
  if (flag !== "on" && flag !== "off") throw badConfig("STRATA_CDC", flag, '"on" or "off"');
  const connectUrl = read.get("STRATA_CONNECT_URL");
  return {
    enabled: flag === "on",
    databases: flag === "on" ? parseCdcDatabases(read.get("STRATA_CDC_DATABASES")) : {},
    ...(connectUrl !== undefined ? { connectUrl } : {}),
    chunkSize: read.int("STRATA_CDC_CHUNK", 1_000, 1, 100_000),
  };
}

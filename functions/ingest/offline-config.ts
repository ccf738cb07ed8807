import { badConfig, EnvReader } from "../../shared/config/env.js";
import { DEFAULT_COMMIT_INTERVAL_MS } from "../../shared/offline/sink-config.js";

/** The offline store writer's settings (docs/offline-store.md, "Writing"). */
export interface OfflineConfig {
  /** STRATA_OFFLINE=on: project every changelog record to the offline topic (default off). */
  enabled: boolean;
  /**
   * STRATA_CONNECT_URL: a Kafka Connect worker's REST API. When set, the projector registers
   * the project's Iceberg sink connector there at start (idempotently); when not, the sink is
   * declared elsewhere (the Pulumi stacks).
   */
  connectUrl?: string;
  /**
   * STRATA_OFFLINE_WAREHOUSE: the Hadoop catalog's warehouse folder, as the Connect worker
   * sees it (the local stack exports `<stack dir>/warehouse`). Needed with STRATA_CONNECT_URL.
   */
  warehouse?: string;
  /** STRATA_OFFLINE_COMMIT_INTERVAL_MS: the sink's commit interval (default 60,000). */
  commitIntervalMs: number;
  /** STRATA_OFFLINE_SINK_TASKS: the sink's tasks (default 1). */
  sinkTasks: number;
}

export function loadOfflineConfig(env: NodeJS.ProcessEnv = process.env): OfflineConfig {
  const read = new EnvReader(env);
  const flag = read.get("STRATA_OFFLINE") ?? "off";
  if (flag !== "on" && flag !== "off") throw badConfig("STRATA_OFFLINE", flag, '"on" or "off"');
  const connectUrl = read.get("STRATA_CONNECT_URL");
  const warehouse = read.get("STRATA_OFFLINE_WAREHOUSE");
  if (flag === "on" && connectUrl !== undefined && warehouse === undefined) {
    throw badConfig(
      "STRATA_OFFLINE_WAREHOUSE",
      warehouse,
      "the warehouse folder of the sink's Hadoop catalog, when STRATA_CONNECT_URL is set",
    );
  }
  return {
    enabled: flag === "on",
    ...(connectUrl !== undefined ? { connectUrl } : {}),
    ...(warehouse !== undefined ? { warehouse } : {}),
    commitIntervalMs: read.int(
      "STRATA_OFFLINE_COMMIT_INTERVAL_MS",
      DEFAULT_COMMIT_INTERVAL_MS,
      1_000,
      3_600_000,
    ),
    sinkTasks: read.int("STRATA_OFFLINE_SINK_TASKS", 1, 1, 256),
  };
}

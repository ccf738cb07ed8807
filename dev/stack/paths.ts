import { fileURLToPath } from "node:url";
import path from "node:path";

/** The repository root: everything the stack writes lives below `<root>/.stack` (git-ignored). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export const stackDir = process.env.STRATA_STACK_DIR ?? path.join(repoRoot, ".stack");

export const stackPaths = {
  pids: path.join(stackDir, "run"),
  logs: path.join(stackDir, "logs"),
  data: path.join(stackDir, "data"),
  kafkaLibs: path.join(stackDir, "kafka", "libs"),
  kafkaPom: path.join(repoRoot, "dev", "kafka", "pom.xml"),
  kafkaLog4j: path.join(repoRoot, "dev", "kafka", "log4j2.xml"),
  mirrorMakerLibs: path.join(stackDir, "mirror-maker", "libs"),
  mirrorMakerPom: path.join(repoRoot, "dev", "mirror-maker", "pom.xml"),
  mirrorMakerLog4j: path.join(repoRoot, "dev", "mirror-maker", "log4j2.xml"),
  connectLibs: path.join(stackDir, "connect", "libs"),
  connectPom: path.join(repoRoot, "dev", "connect", "pom.xml"),
  connectLog4j: path.join(repoRoot, "dev", "connect", "log4j2.xml"),
  /** The Connect worker's plugin.path: each plugin in its own folder, loaded in isolation. */
  connectPlugins: path.join(stackDir, "connect", "plugins"),
  debeziumLibs: path.join(stackDir, "connect", "plugins", "debezium-postgres"),
  debeziumPom: path.join(repoRoot, "dev", "connect", "debezium", "pom.xml"),
  /** The CDC database's server (owned by the unprivileged user it runs as) and its password file. */
  postgres: path.join(stackDir, "postgres"),
  /** The offline store's Iceberg warehouse (a Hadoop catalog's folder); STRATA_OFFLINE_WAREHOUSE overrides. */
  warehouse: process.env.STRATA_OFFLINE_WAREHOUSE || path.join(stackDir, "warehouse"),
  /** Tools built on first use (toxiproxy's server, by `go install`). */
  toolsBin: path.join(stackDir, "tools", "bin"),
  /** The layout `up` started (regions and ports), so `status` and `down` know it. */
  regionsFile: path.join(stackDir, "regions.json"),
};

export function logFile(service: string): string {
  return path.join(stackPaths.logs, `${service}.log`);
}

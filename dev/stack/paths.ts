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
};

export function logFile(service: string): string {
  return path.join(stackPaths.logs, `${service}.log`);
}

// Checks the CDC infra tests share across clouds.
import type { StackContainer } from "./container-env.js";
import type { StackRun } from "./pulumi-mocks.js";

/**
 * Every value given to a `database.password` key anywhere in any resource's inputs (connector
 * configurations as objects, or inside JSON or properties text), so a test can assert that
 * each one is a config-provider reference and never a password.
 */
export function everyDatabasePassword(run: StackRun): string[] {
  const found: string[] = [];
  const visit = (value: unknown): void => {
    if (typeof value === "string") {
      for (const m of value.matchAll(
        /database\.password["']?\s*[=:]\s*"?((?:\$\{[^}]*\})|[^"\n,}]*)/g,
      )) {
        found.push(m[1]!);
      }
      return;
    }
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value === "object" && value !== null) {
      for (const [key, v] of Object.entries(value)) {
        if (key === "database.password" && typeof v === "string") found.push(v);
        else visit(v);
      }
    }
  };
  for (const resource of run.resources) visit(resource.inputs);
  return found;
}

/** The environment of the stack's consumer containers (all replicas see the same). */
export function ingestEnv(containers: StackContainer[]): Record<string, string | undefined> {
  const ingest = containers.filter((c) => c.role === "ingest");
  if (ingest.length === 0) throw new Error("no consumer container");
  return ingest[0]!.env;
}

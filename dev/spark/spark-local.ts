// Spark local (Spark 4.0 + Iceberg, jars from Maven through dev/spark/pom.xml) running a SQL
// script over the offline store's warehouse: the training set's scale-out path, run the same
// way on a developer machine and in tests (docs/training-sets.md).
import path from "node:path";
import { ensureMavenJars } from "../stack/maven-jars.js";
import { repoRoot, stackDir } from "../stack/paths.js";
import { runCommand } from "../stack/processes.js";

export const sparkPaths = {
  pom: path.join(repoRoot, "dev", "spark", "pom.xml"),
  libs: path.join(stackDir, "spark", "libs"),
  runner: path.join(repoRoot, "dev", "spark", "RunSql.java"),
  log4j: path.join(repoRoot, "dev", "spark", "log4j2.properties"),
};

/** Copies Spark's and Iceberg's jars from Maven (first use only; keyed by the pom's hash). */
export function ensureSparkJars(log: (line: string) => void = () => {}): Promise<void> {
  return ensureMavenJars(
    { pom: sparkPaths.pom, libsDir: sparkPaths.libs, what: "the Spark jars" },
    log,
  );
}

/**
 * Runs a script with dev/spark/RunSql.java on Spark local[2], the warehouse as catalog
 * `strata`; `params` fill the script's `${name}` placeholders. Resolves with Spark's output.
 */
export async function runSparkSql(
  warehouse: string,
  scriptFile: string,
  params: Record<string, string> = {},
  timeoutMs = 5 * 60_000,
): Promise<string> {
  await ensureSparkJars();
  const { stdout } = await runCommand(
    "java",
    [
      "-Xmx2g",
      `-Dlog4j2.configurationFile=${sparkPaths.log4j}`,
      // Spark 4 on Java 17 needs these opened (what its own launcher scripts pass).
      "--add-opens=java.base/java.lang=ALL-UNNAMED",
      "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens=java.base/java.util=ALL-UNNAMED",
      "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
      "-cp",
      `${sparkPaths.libs}/*`,
      sparkPaths.runner,
      warehouse,
      scriptFile,
      ...Object.entries(params).map(([k, v]) => `${k}=${v}`),
    ],
    "spark-sql",
    timeoutMs,
  );
  return stdout;
}

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./paths.js";
import { runCommand } from "./processes.js";
import { StackError } from "./stack-error.js";

const MAVEN_TIMEOUT_MS = 15 * 60_000;

export interface MavenJars {
  /** The pom that names the jars (nothing is built from it). */
  pom: string;
  /** Where the runtime jars are copied. */
  libsDir: string;
  /** For messages: "the Kafka jars". */
  what: string;
}

/**
 * Copies a pom's runtime jars from Maven into `libsDir`. Keyed by the pom's hash: later
 * starts skip Maven entirely, and editing the pom re-resolves. Staged then renamed, so an
 * interrupted resolution never leaves a half-filled libs folder that looks complete.
 */
export function ensureMavenJars(jars: MavenJars, log: (line: string) => void): Promise<void> {
  // Every region's broker asks for the same jars at once: one Maven run serves them all.
  let pending = inFlight.get(jars.libsDir);
  if (pending === undefined) {
    pending = resolveJars(jars, log).finally(() => inFlight.delete(jars.libsDir));
    inFlight.set(jars.libsDir, pending);
  }
  return pending;
}

const inFlight = new Map<string, Promise<void>>();

async function resolveJars(jars: MavenJars, log: (line: string) => void): Promise<void> {
  const stampFile = path.join(jars.libsDir, ".pom-sha256");
  const wanted = createHash("sha256").update(readFileSync(jars.pom)).digest("hex");
  if (existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === wanted) return;
  const pomName = path.relative(repoRoot, jars.pom);
  log(`resolving ${jars.what} with Maven from ${pomName} (first start only) ...`);
  const staging = `${jars.libsDir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(path.dirname(jars.libsDir), { recursive: true });
  try {
    await runCommand(
      "mvn",
      [
        "-B",
        "-q",
        "-f",
        jars.pom,
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        `-DoutputDirectory=${staging}`,
      ],
      "mvn dependency:copy-dependencies",
      MAVEN_TIMEOUT_MS,
    );
  } catch (error) {
    if (error instanceof StackError) {
      throw new StackError(
        `could not resolve ${jars.what}: ${error.message}`,
        `check that Maven can reach its repository (mvn -f ${pomName} dependency:resolve)`,
      );
    }
    throw error;
  }
  writeFileSync(path.join(staging, ".pom-sha256"), `${wanted}\n`);
  rmSync(jars.libsDir, { recursive: true, force: true });
  renameSync(staging, jars.libsDir);
}

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { runCommand } from "./processes.js";
import { StackError } from "./stack-error.js";

const MIN_JAVA = 17;

function onPath(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const isRoot = () => process.getuid?.() === 0;

/**
 * Debian's redis-server (and redis-cli, for `--cluster create`). Installed with apt-get
 * when missing and we are root, because a fresh CI machine starts without it.
 */
export async function ensureRedis(log: (line: string) => void): Promise<void> {
  if (onPath("redis-server") && onPath("redis-cli")) return;
  if (!isRoot() || !onPath("apt-get")) {
    throw new StackError(
      "redis-server is not installed",
      "install Debian's redis-server (sudo apt-get install redis-server), or set REDIS_URL and REDIS_CLUSTER_NODES",
    );
  }
  await aptInstall("redis-server", log);
  if (!onPath("redis-server") || !onPath("redis-cli")) {
    throw new StackError(
      "apt-get installed redis-server, but redis-server or redis-cli is not on PATH",
    );
  }
}

/**
 * Debian's prometheus (2.42 on bookworm), which the stack runs for drift recording and its
 * tests: installed with apt-get when missing and we are root, like redis-server.
 */
export async function ensurePrometheus(log: (line: string) => void): Promise<void> {
  await ensureTool("prometheus", "prometheus", log);
}

/** Java 17+ runs the Kafka broker; Maven resolves its jars. Neither is installed for you. */
export async function ensureJavaAndMaven(): Promise<void> {
  if (!onPath("java")) {
    throw new StackError(
      "java is not installed; the local Kafka broker needs Java 17 or newer",
      "install a JDK or JRE 17+ (Debian: apt-get install openjdk-17-jre-headless), or set KAFKA_BROKERS",
    );
  }
  const { stderr, stdout } = await runCommand("java", ["-version"], "java -version", 30_000);
  const major = parseJavaMajor(`${stderr}\n${stdout}`);
  if (major === undefined || major < MIN_JAVA) {
    throw new StackError(
      `java is version ${major ?? "unknown"}; the local Kafka broker needs Java ${MIN_JAVA} or newer`,
      "put a Java 17+ first on PATH (or set JAVA_HOME's bin first), or set KAFKA_BROKERS",
    );
  }
  if (!onPath("mvn")) {
    throw new StackError(
      "mvn is not installed; Maven resolves the Kafka jars from dev/kafka/pom.xml",
      "install Maven (Debian: apt-get install maven), or set KAFKA_BROKERS",
    );
  }
}

/** `java -version` prints `version "17.0.15"` or, before Java 9, `version "1.8.0_392"`. */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/**
 * A Debian-packaged tool a benchmark needs (wrk): installed with apt-get when missing and
 * we are root, like redis-server; otherwise a clear message.
 */
export async function ensureTool(
  command: string,
  debianPackage: string,
  log: (line: string) => void,
): Promise<void> {
  if (onPath(command)) return;
  if (!isRoot() || !onPath("apt-get")) {
    throw new StackError(
      `${command} is not installed`,
      `install Debian's ${debianPackage} (sudo apt-get install ${debianPackage})`,
    );
  }
  await aptInstall(debianPackage, log);
}

async function aptInstall(debianPackage: string, log: (line: string) => void): Promise<void> {
  log(`installing Debian's ${debianPackage} with apt-get ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  await runCommand("apt-get", ["update", "-qq"], "apt-get update", 5 * 60_000, env);
  await runCommand(
    "apt-get",
    ["install", "-y", "-qq", "--no-install-recommends", debianPackage],
    `apt-get install ${debianPackage}`,
    10 * 60_000,
    env,
  );
}

/**
 * The folder of Debian's PostgreSQL server binaries (initdb, postgres): the newest
 * /usr/lib/postgresql/<major>/bin, which Debian does not put on PATH, else `postgres` on PATH.
 * Installed with apt-get (Debian's `postgresql`, 15 on bookworm) when missing and we are root,
 * like redis-server: a fresh CI machine has none.
 */
export async function ensurePostgres(log: (line: string) => void): Promise<string> {
  const found = postgresBinDir();
  if (found !== undefined) return found;
  if (!isRoot() || !onPath("apt-get")) {
    throw new StackError(
      "PostgreSQL is not installed; the stack runs it for CDC sources",
      "install Debian's postgresql (sudo apt-get install postgresql), or set STRATA_CDC_DATABASES",
    );
  }
  await aptInstall("postgresql", log);
  const installed = postgresBinDir();
  if (installed === undefined) {
    throw new StackError("apt-get installed postgresql, but no postgres server binary was found");
  }
  return installed;
}

function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const majors = readdirSync(root)
      .filter((name) => /^\d+$/.test(name) && existsSync(path.join(root, name, "bin", "postgres")))
      .sort((a, b) => Number(b) - Number(a));
    if (majors.length > 0) return path.join(root, majors[0]!, "bin");
  }
  if (!onPath("postgres") || !onPath("initdb")) return undefined;
  return path.dirname(
    execFileSync("sh", ["-c", "command -v postgres"], { encoding: "utf8" }).trim(),
  );
}

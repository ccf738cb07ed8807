import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { connectUrl, LOOPBACK, resolveEndpoints } from "../endpoints.js";
import type { RegionLayout } from "../layout.js";
import { kafkaAddress } from "../layout.js";
import { ensureMavenJars } from "../maven-jars.js";
import { logFile, stackPaths } from "../paths.js";
import {
  isAlive,
  ourRunningPid,
  requireFreePort,
  startDetached,
  stopRecorded,
} from "../processes.js";
import { ensureJavaAndMaven } from "../prerequisites.js";
import { StackError } from "../stack-error.js";
import { waitUntil } from "../wait.js";
import { renderConnectProperties } from "./connect-config.js";
import type { ServiceStatus, StackService, UpOutcome } from "./service.js";

const NAME = "connect";
/** JVM start, the worker's internal topics, joining its group. */
const READY_TIMEOUT_MS = 120_000;
const SINK_CLASS = "org.apache.iceberg.connect.IcebergSinkConnector";
const DEBEZIUM_CLASS = "io.debezium.connector.postgresql.PostgresConnector";

export const CONNECT_JARS = {
  pom: stackPaths.connectPom,
  libsDir: stackPaths.connectLibs,
  what: "the Kafka Connect and Iceberg sink jars",
};

/** Debezium's PostgreSQL connector, in a plugin.path folder of its own (isolated class loader). */
export const DEBEZIUM_JARS = {
  pom: stackPaths.debeziumPom,
  libsDir: stackPaths.debeziumLibs,
  what: "the Debezium PostgreSQL connector jars",
};

/**
 * Region 0's Kafka Connect worker (distributed mode, one process) with Apache Iceberg's sink:
 * what writes the offline store's tables (docs/offline-store.md) into `<stack dir>/warehouse`.
 * With Debezium's PostgreSQL connector as an isolated plugin (plugin.path), which captures the
 * CDC sources (docs/sources.md). Ready when its REST API lists both plugins. Connectors are
 * registered by the ingest process (STRATA_CONNECT_URL), not here.
 */
export class ConnectWorker implements StackService {
  readonly name = NAME;
  private readonly dir = path.join(stackPaths.data, NAME);
  private readonly propertiesFile = path.join(this.dir, "worker.properties");

  constructor(private readonly region: RegionLayout) {}

  private get url(): string {
    return connectUrl({ ...process.env, STRATA_CONNECT_URL: "" });
  }

  private get port(): number {
    return Number(new URL(this.url).port);
  }

  /** STRATA_CONNECT_URL names a worker of the developer's own: the stack starts none. */
  private get external(): boolean {
    return (process.env.STRATA_CONNECT_URL ?? "").trim() !== "";
  }

  async up(log: (line: string) => void): Promise<UpOutcome> {
    if (this.external) return "external";
    if (ourRunningPid(NAME, this.dir) !== undefined) {
      if ((await waitUntil(() => this.hasSink(), { timeoutMs: READY_TIMEOUT_MS })) === "ready")
        return "reused";
      await this.down();
    }
    await ensureJavaAndMaven();
    await requireFreePort(this.port, LOOPBACK, "Kafka Connect", "STRATA_CONNECT_URL");
    const mavenLog = (line: string) => log(`${NAME.padEnd(10)} ${line}`);
    await ensureMavenJars(CONNECT_JARS, mavenLog);
    await ensureMavenJars(DEBEZIUM_JARS, mavenLog);
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(stackPaths.warehouse, { recursive: true });
    const bootstrap =
      this.region.index === 0 && resolveEndpoints().kafka.external
        ? resolveEndpoints().kafka.address.join(",")
        : kafkaAddress(this.region);
    writeFileSync(
      this.propertiesFile,
      renderConnectProperties({
        bootstrap,
        restPort: this.port,
        host: LOOPBACK,
        pluginPath: stackPaths.connectPlugins,
      }),
    );
    const pid = startDetached({
      name: NAME,
      command: "java",
      args: [
        "-Xms256m",
        "-Xmx768m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        `-Dlog4j2.configurationFile=${stackPaths.connectLog4j}`,
        "-cp",
        path.join(stackPaths.connectLibs, "*"),
        "org.apache.kafka.connect.cli.ConnectDistributed",
        this.propertiesFile,
      ],
      workDir: this.dir,
      logFile: logFile(NAME),
    });
    const outcome = await waitUntil(() => this.hasSink(), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 250,
      stillAlive: () => isAlive(pid),
    });
    if (outcome !== "ready") {
      const died = !isAlive(pid);
      await this.down();
      throw new StackError(
        died
          ? "Kafka Connect exited during start-up"
          : `Kafka Connect did not answer on ${this.url} within ${READY_TIMEOUT_MS / 1000}s`,
        `see its log: ${logFile(NAME)}`,
      );
    }
    return "started";
  }

  down(): Promise<boolean> {
    // A sink task closes its writers and leaves the group; give it the time Connect asks for.
    return stopRecorded(NAME, this.dir, 20_000);
  }

  status(): ServiceStatus {
    if (this.external) {
      return {
        name: NAME,
        state: "external",
        address: connectUrl(),
        pids: [],
        source: "STRATA_CONNECT_URL",
      };
    }
    const pid = ourRunningPid(NAME, this.dir);
    return {
      name: NAME,
      state: pid === undefined ? "stopped" : "running",
      address: this.url,
      pids: pid === undefined ? [] : [pid],
    };
  }

  private async hasSink(): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/connector-plugins`, {
        signal: AbortSignal.timeout(2_000),
      });
      if (!response.ok) return false;
      const plugins = (await response.json()) as { class: string }[];
      return (
        plugins.some((plugin) => plugin.class === SINK_CLASS) &&
        plugins.some((plugin) => plugin.class === DEBEZIUM_CLASS)
      );
    } catch {
      return false;
    }
  }
}

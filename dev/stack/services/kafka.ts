import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { LOOPBACK, resolveEndpoints } from "../endpoints.js";
import { kafkaAddress, serviceName, type RegionLayout } from "../layout.js";
import { ensureMavenJars } from "../maven-jars.js";
import { logFile, stackPaths } from "../paths.js";
import {
  isAlive,
  ourRunningPid,
  requireFreePort,
  runCommand,
  startDetached,
  stopRecorded,
} from "../processes.js";
import { ensureJavaAndMaven } from "../prerequisites.js";
import { StackError } from "../stack-error.js";
import { waitUntil } from "../wait.js";
import { newClusterId, renderKafkaProperties } from "./kafka-config.js";
import type { ServiceStatus, StackService, UpOutcome } from "./service.js";

const READY_TIMEOUT_MS = 90_000;

export const KAFKA_JARS = {
  pom: stackPaths.kafkaPom,
  libsDir: stackPaths.kafkaLibs,
  what: "the Kafka jars",
};

/**
 * One region's Apache Kafka 4.x in KRaft combined mode, one node: region 0 on
 * 127.0.0.1:19092 (controller 19093), region i ten ports further per region (layout.ts).
 * In a multi-region stack it also has a PEER listener advertised through toxiproxy.
 */
export class KafkaBroker implements StackService {
  readonly name: string;
  private readonly dir: string;
  private readonly propertiesFile: string;

  constructor(
    private readonly region: RegionLayout,
    private readonly withPeerListener: boolean,
  ) {
    this.name = serviceName("kafka", region);
    this.dir = path.join(stackPaths.data, this.name);
    this.propertiesFile = path.join(this.dir, "server.properties");
  }

  private get external(): boolean {
    return this.region.index === 0 && resolveEndpoints().kafka.external;
  }

  private get address(): string {
    return this.external ? resolveEndpoints().kafka.address.join(",") : kafkaAddress(this.region);
  }

  async up(log: (line: string) => void): Promise<UpOutcome> {
    if (this.external) return "external";
    if (ourRunningPid(this.name, this.dir) !== undefined) {
      if (
        (await waitUntil(() => this.answersMetadata(), { timeoutMs: READY_TIMEOUT_MS })) === "ready"
      )
        return "reused";
      await this.down();
    }
    await ensureJavaAndMaven();
    await this.requirePortsFree();
    await ensureMavenJars(KAFKA_JARS, (line) => log(`${this.name.padEnd(10)} ${line}`));
    await this.formatStorage();
    await this.start();
    return "started";
  }

  /**
   * Stops the broker and starts it again on the same log directory: its topics, records and
   * cluster id survive (a restart, not the cold start's re-format).
   */
  async restart(): Promise<void> {
    await this.down();
    await this.startKeepingData();
  }

  /** Starts a stopped broker on its existing log directory (never re-formats); waits until it answers. */
  async startKeepingData(): Promise<void> {
    if (this.external) throw new StackError(`${this.name} is external; the stack cannot start it`);
    if (ourRunningPid(this.name, this.dir) !== undefined) return;
    if (!existsSync(this.propertiesFile)) {
      throw new StackError(
        `${this.name} has no formatted log directory to start on`,
        "start the stack first: npm run stack -- up --regions ...",
      );
    }
    await this.requirePortsFree();
    await this.start();
  }

  down(): Promise<boolean> {
    // Kafka's controlled shutdown takes a few seconds; give it time before SIGKILL.
    return stopRecorded(this.name, this.dir, 30_000);
  }

  status(): ServiceStatus {
    const endpoint = resolveEndpoints().kafka;
    if (this.external) {
      return {
        name: this.name,
        state: "external",
        address: this.address,
        pids: [],
        source: endpoint.source,
      };
    }
    const pid = ourRunningPid(this.name, this.dir);
    return {
      name: this.name,
      state: pid === undefined ? "stopped" : "running",
      address: this.address,
      pids: pid === undefined ? [] : [pid],
    };
  }

  private async requirePortsFree(): Promise<void> {
    const ports: [number, string][] = [
      [this.region.kafkaPort, this.name],
      [this.region.controllerPort, `the ${this.name} controller`],
    ];
    if (this.withPeerListener) ports.push([this.region.peerPort, `the ${this.name} PEER listener`]);
    await Promise.all(
      ports.map(([port, what]) => requireFreePort(port, LOOPBACK, what, "KAFKA_BROKERS")),
    );
  }

  private async start(): Promise<void> {
    const pid = startDetached({
      name: this.name,
      command: "java",
      args: [
        "-Xms256m",
        this.region.index === 0 ? "-Xmx1g" : "-Xmx512m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        `-Dlog4j2.configurationFile=${stackPaths.kafkaLog4j}`,
        "-cp",
        path.join(stackPaths.kafkaLibs, "*"),
        "kafka.Kafka",
        this.propertiesFile,
      ],
      workDir: this.dir,
      logFile: logFile(this.name),
    });
    const outcome = await waitUntil(() => this.answersMetadata(), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 500,
      stillAlive: () => isAlive(pid),
    });
    if (outcome !== "ready") {
      await this.down();
      throw new StackError(
        `${this.name} ${outcome === "died" ? "exited during start-up" : `did not answer a metadata request within ${READY_TIMEOUT_MS / 1000}s`}`,
        `see its log: ${logFile(this.name)}`,
      );
    }
  }

  /** A fresh, formatted KRaft log directory for every cold start: the stack keeps no data across `down`. */
  private async formatStorage(): Promise<void> {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(
      this.propertiesFile,
      renderKafkaProperties({
        logDir: path.join(this.dir, "log"),
        host: LOOPBACK,
        brokerPort: this.region.kafkaPort,
        controllerPort: this.region.controllerPort,
        peer: this.withPeerListener
          ? { port: this.region.peerPort, advertisedPort: this.region.proxyPort }
          : undefined,
      }),
    );
    await runCommand(
      "java",
      [
        `-Dlog4j2.configurationFile=${stackPaths.kafkaLog4j}`,
        "-cp",
        path.join(stackPaths.kafkaLibs, "*"),
        "kafka.tools.StorageTool",
        "format",
        `--cluster-id=${newClusterId()}`,
        `--config=${this.propertiesFile}`,
      ],
      `${this.name} storage format`,
      60_000,
    );
  }

  /** The broker is ready when an admin client gets cluster metadata back, not merely when the port opens. */
  private answersMetadata(): Promise<boolean> {
    return answersMetadata([this.address]);
  }
}

export async function answersMetadata(brokers: string[]): Promise<boolean> {
  const kafka = new Kafka({
    clientId: "strata-stack-probe",
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 2_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } finally {
    await admin.disconnect();
  }
}

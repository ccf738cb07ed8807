import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { LOCAL_PORTS, LOOPBACK, resolveEndpoints } from "../endpoints.js";
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

const NAME = "kafka";
const READY_TIMEOUT_MS = 90_000;
const MAVEN_TIMEOUT_MS = 15 * 60_000;
const JVM_OPTS = ["-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-Djava.awt.headless=true"];

const kafkaDir = path.join(stackPaths.data, NAME);
const propertiesFile = path.join(kafkaDir, "server.properties");
const stampFile = path.join(stackPaths.kafkaLibs, ".pom-sha256");

/** Apache Kafka 4.x in KRaft combined mode, one node, on 127.0.0.1:19092 (controller on 19093). */
export class KafkaBroker implements StackService {
  readonly name = NAME;

  async up(log: (line: string) => void): Promise<UpOutcome> {
    if (resolveEndpoints().kafka.external) return "external";
    if (ourRunningPid(NAME, kafkaDir) !== undefined) {
      if ((await waitUntil(answersMetadata, { timeoutMs: READY_TIMEOUT_MS })) === "ready")
        return "reused";
      await this.down();
    }
    await ensureJavaAndMaven();
    await Promise.all([
      requireFreePort(LOCAL_PORTS.kafka, LOOPBACK, "kafka", "KAFKA_BROKERS"),
      requireFreePort(
        LOCAL_PORTS.kafkaController,
        LOOPBACK,
        "the kafka controller",
        "KAFKA_BROKERS",
      ),
    ]);
    await ensureJars(log);
    await formatStorage();
    const pid = startDetached({
      name: NAME,
      command: "java",
      args: [
        ...JVM_OPTS,
        `-Dlog4j2.configurationFile=${stackPaths.kafkaLog4j}`,
        "-cp",
        path.join(stackPaths.kafkaLibs, "*"),
        "kafka.Kafka",
        propertiesFile,
      ],
      workDir: kafkaDir,
      logFile: logFile(NAME),
    });
    const outcome = await waitUntil(answersMetadata, {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 500,
      stillAlive: () => isAlive(pid),
    });
    if (outcome !== "ready") {
      await this.down();
      throw new StackError(
        `kafka ${outcome === "died" ? "exited during start-up" : `did not answer a metadata request within ${READY_TIMEOUT_MS / 1000}s`}`,
        `see its log: ${logFile(NAME)}`,
      );
    }
    return "started";
  }

  down(): Promise<boolean> {
    // Kafka's controlled shutdown takes a few seconds; give it time before SIGKILL.
    return stopRecorded(NAME, kafkaDir, 30_000);
  }

  status(): ServiceStatus {
    const endpoint = resolveEndpoints().kafka;
    const address = endpoint.address.join(",");
    if (endpoint.external) {
      return { name: NAME, state: "external", address, pids: [], source: endpoint.source };
    }
    const pid = ourRunningPid(NAME, kafkaDir);
    return {
      name: NAME,
      state: pid === undefined ? "stopped" : "running",
      address,
      pids: pid === undefined ? [] : [pid],
    };
  }
}

/**
 * Copies Kafka's runtime jars from Maven into .stack/kafka/libs. Keyed by the pom's hash:
 * the second start skips Maven entirely, and editing the pom re-resolves.
 */
async function ensureJars(log: (line: string) => void): Promise<void> {
  const wanted = createHash("sha256").update(readFileSync(stackPaths.kafkaPom)).digest("hex");
  if (existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === wanted) return;
  log(
    "kafka      resolving the Kafka jars with Maven from dev/kafka/pom.xml (first start only) ...",
  );
  const staging = `${stackPaths.kafkaLibs}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(path.dirname(stackPaths.kafkaLibs), { recursive: true });
  try {
    await runCommand(
      "mvn",
      [
        "-B",
        "-q",
        "-f",
        stackPaths.kafkaPom,
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
        `could not resolve the Kafka jars: ${error.message}`,
        "check that Maven can reach its repository (mvn -f dev/kafka/pom.xml dependency:resolve)",
      );
    }
    throw error;
  }
  writeFileSync(path.join(staging, ".pom-sha256"), `${wanted}\n`);
  rmSync(stackPaths.kafkaLibs, { recursive: true, force: true });
  renameSync(staging, stackPaths.kafkaLibs);
}

/** A fresh, formatted KRaft log directory for every cold start: the stack keeps no data across `down`. */
async function formatStorage(): Promise<void> {
  rmSync(kafkaDir, { recursive: true, force: true });
  mkdirSync(kafkaDir, { recursive: true });
  writeFileSync(
    propertiesFile,
    renderKafkaProperties({
      logDir: path.join(kafkaDir, "log"),
      host: LOOPBACK,
      brokerPort: LOCAL_PORTS.kafka,
      controllerPort: LOCAL_PORTS.kafkaController,
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
      `--config=${propertiesFile}`,
    ],
    "kafka storage format",
    60_000,
  );
}

/** The broker is ready when an admin client gets cluster metadata back, not merely when the port opens. */
async function answersMetadata(): Promise<boolean> {
  const kafka = new Kafka({
    clientId: "strata-stack-probe",
    brokers: resolveEndpoints().kafka.address,
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

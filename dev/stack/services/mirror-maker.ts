import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { StackLayout } from "../layout.js";
import { ensureMavenJars } from "../maven-jars.js";
import { ensureProbeTopics, flowsNotYetCarrying, produceProbes } from "../mirror-probe.js";
import { logFile, stackPaths } from "../paths.js";
import { isAlive, killRecorded, ourRunningPid, startDetached, stopRecorded } from "../processes.js";
import { ensureJavaAndMaven } from "../prerequisites.js";
import { StackError } from "../stack-error.js";
import { waitUntil } from "../wait.js";
import { renderMirrorMakerProperties } from "./mirror-maker-config.js";
import type { ServiceStatus, StackService, UpOutcome } from "./service.js";

const NAME = "mirror-maker";
/** JVM start, one herder per region, connector start and the first topic listing. */
export const MM2_READY_TIMEOUT_MS = 180_000;
const REUSE_TIMEOUT_MS = 30_000;

export const MIRROR_MAKER_JARS = {
  pom: stackPaths.mirrorMakerPom,
  libsDir: stackPaths.mirrorMakerLibs,
  what: "the MirrorMaker 2 jars",
};

/**
 * A dedicated MirrorMaker 2 cluster (one process) replicating every region's changelog and
 * registry topics to every other region. Ready when a fresh probe record produced in each
 * region has crossed every flow, not when the JVM merely runs.
 */
export class MirrorMaker implements StackService {
  readonly name = NAME;
  private readonly dir = path.join(stackPaths.data, NAME);
  private readonly propertiesFile = path.join(this.dir, "mm2.properties");

  constructor(private readonly layout: StackLayout) {}

  async up(log: (line: string) => void): Promise<UpOutcome> {
    if (ourRunningPid(NAME, this.dir) !== undefined) {
      if ((await this.waitCarrying(REUSE_TIMEOUT_MS)).length === 0) return "reused";
      await this.down();
    }
    await ensureJavaAndMaven();
    await ensureMavenJars(MIRROR_MAKER_JARS, (line) => log(`${NAME.padEnd(10)} ${line}`));
    await this.start();
    return "started";
  }

  /** Starts MM2 (it resumes from its offsets in each target) and waits until every flow carries records. */
  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.propertiesFile, renderMirrorMakerProperties(this.layout));
    await ensureProbeTopics(this.layout);
    const pid = startDetached({
      name: NAME,
      command: "java",
      args: [
        "-Xms256m",
        "-Xmx768m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        `-Dlog4j2.configurationFile=${stackPaths.mirrorMakerLog4j}`,
        "-cp",
        path.join(stackPaths.mirrorMakerLibs, "*"),
        "org.apache.kafka.connect.mirror.MirrorMaker",
        this.propertiesFile,
      ],
      workDir: this.dir,
      logFile: logFile(NAME),
    });
    const pending = await this.waitCarrying(MM2_READY_TIMEOUT_MS, () => isAlive(pid));
    if (pending.length > 0) {
      const died = !isAlive(pid);
      await this.down();
      throw new StackError(
        died
          ? "MirrorMaker 2 exited during start-up"
          : `MirrorMaker 2 did not replicate a probe record on ${pending.join(", ")} within ${MM2_READY_TIMEOUT_MS / 1000}s`,
        `see its log: ${logFile(NAME)}`,
      );
    }
  }

  /** A crash: SIGKILL, no shutdown. Records MM2 had not yet committed are replayed on start. */
  kill(): Promise<boolean> {
    return killRecorded(NAME, this.dir);
  }

  down(): Promise<boolean> {
    return stopRecorded(NAME, this.dir, 20_000);
  }

  status(): ServiceStatus {
    const pid = ourRunningPid(NAME, this.dir);
    return {
      name: NAME,
      state: pid === undefined ? "stopped" : "running",
      address: `${this.layout.regions.length * (this.layout.regions.length - 1)} flows`,
      pids: pid === undefined ? [] : [pid],
    };
  }

  /** Produces fresh probes, then waits for them on every flow; returns the flows still pending. */
  private async waitCarrying(timeoutMs: number, stillAlive?: () => boolean): Promise<string[]> {
    const since = await produceProbes(this.layout);
    let pending: string[] = this.flows();
    await waitUntil(
      async () => {
        pending = await flowsNotYetCarrying(this.layout, since);
        return pending.length === 0;
      },
      { timeoutMs, intervalMs: 500, stillAlive },
    );
    return pending;
  }

  private flows(): string[] {
    return this.layout.regions.flatMap((source) =>
      this.layout.regions.filter((t) => t !== source).map((t) => `${source.name}->${t.name}`),
    );
  }
}

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { LOOPBACK } from "../endpoints.js";
import type { StackLayout } from "../layout.js";
import { logFile, stackPaths } from "../paths.js";
import { ensurePrometheus } from "../prerequisites.js";
import { renderPrometheusConfig } from "../prometheus-config.js";
import { prometheusTargetsDir, pruneScrapeTargets } from "../prometheus-targets.js";
import {
  isAlive,
  ourRunningPid,
  requireFreePort,
  startDetached,
  stopRecorded,
} from "../processes.js";
import { StackError } from "../stack-error.js";
import { waitUntil } from "../wait.js";
import type { ServiceStatus, StackService, UpOutcome } from "./service.js";

const NAME = "prometheus";
const READY_TIMEOUT_MS = 30_000;
/**
 * The admin ports `strata serve` (STRATA_ADMIN_PORT) and `strata ingest` (STRATA_METRICS_PORT)
 * listen on by default; not imported from their configs, which pull in their clients (a unit
 * test keeps them in step).
 */
export const DEFAULT_SCRAPE_PORTS = { serve: 9465, ingest: 9464 } as const;

/**
 * Debian's Prometheus (2.42), one for the whole stack on 127.0.0.1:18090 (+ offset): it
 * scrapes every region's processes, told apart by their `region` label, as the drift
 * function queries them per region and across regions. It scrapes what registers in
 * prometheus-targets.ts (tests' serving and consumer processes, on ephemeral ports) and the
 * default admin ports of `strata serve` and `strata ingest`. Its data starts empty at each
 * start, like every server of the stack.
 */
export class Prometheus implements StackService {
  readonly name: string;
  private readonly dir: string;
  private readonly targetsDir: string;

  /** `options` lets a test run one of its own beside the stack's (another name, folders). */
  constructor(
    private readonly layout: StackLayout,
    options: { name?: string; dir?: string; targetsDir?: string } = {},
  ) {
    this.name = options.name ?? NAME;
    this.dir = options.dir ?? path.join(stackPaths.data, this.name);
    this.targetsDir = options.targetsDir ?? prometheusTargetsDir;
  }

  get url(): string {
    return `http://${LOOPBACK}:${this.layout.prometheusPort}`;
  }

  async up(log: (line: string) => void): Promise<UpOutcome> {
    pruneScrapeTargets(this.targetsDir);
    if (ourRunningPid(this.name, this.dir) !== undefined && (await this.ready())) return "reused";
    await this.down();
    await ensurePrometheus(log);
    await requireFreePort(this.layout.prometheusPort, LOOPBACK, this.name);
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(this.targetsDir, { recursive: true });
    const configFile = path.join(this.dir, "prometheus.yml");
    writeFileSync(
      configFile,
      renderPrometheusConfig({
        targetsDir: this.targetsDir,
        region: this.layout.regions[0]!.name,
        servePort: DEFAULT_SCRAPE_PORTS.serve,
        ingestPort: DEFAULT_SCRAPE_PORTS.ingest,
      }),
    );
    const pid = startDetached({
      name: this.name,
      command: "prometheus",
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(this.dir, "tsdb")}`,
        `--web.listen-address=${LOOPBACK}:${this.layout.prometheusPort}`,
        // Lets a test or benchmark write series that no running process serves (the drift
        // benchmark's thousand features over three regions).
        "--web.enable-remote-write-receiver",
        "--log.level=warn",
      ],
      workDir: this.dir,
      logFile: logFile(this.name),
    });
    const outcome = await waitUntil(() => this.ready(), {
      timeoutMs: READY_TIMEOUT_MS,
      stillAlive: () => isAlive(pid),
    });
    if (outcome !== "ready") {
      await this.down();
      throw new StackError(
        `${this.name} ${outcome === "died" ? "exited during start-up" : `was not ready on ${this.url} within ${READY_TIMEOUT_MS / 1000}s`}`,
        `see its log: ${logFile(this.name)}`,
      );
    }
    return "started";
  }

  down(): Promise<boolean> {
    return stopRecorded(this.name, this.dir, 10_000);
  }

  status(): ServiceStatus {
    const pid = ourRunningPid(this.name, this.dir);
    return {
      name: this.name,
      state: pid === undefined ? "stopped" : "running",
      address: this.url,
      pids: pid === undefined ? [] : [pid],
    };
  }

  /** Prometheus answers 200 on /-/ready once its storage is open and it serves queries. */
  async ready(): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(2_000) });
      return response.ok;
    } catch {
      return false;
    }
  }
}

// A Prometheus server a test owns (Debian's /usr/bin/prometheus), scraping the targets the
// test names every second. Loopback only; its data in a temporary folder removed on stop.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { isPortFree } from "../../dev/stack/processes.js";
import { waitUntil } from "../../dev/stack/wait.js";

export const PROMETHEUS_BIN = process.env.STRATA_PROMETHEUS_BIN ?? "/usr/bin/prometheus";

export class PrivatePrometheus {
  private child: ChildProcess | undefined;
  readonly url: string;

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Starts a Prometheus scraping `targets` (host:port) every `intervalS` seconds. */
  static async start(targets: string[], intervalS = 1): Promise<PrivatePrometheus> {
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), "strata-prometheus-"));
    const config = [
      "global:",
      `  scrape_interval: ${intervalS}s`,
      `  evaluation_interval: ${intervalS}s`,
      "scrape_configs:",
      "  - job_name: drift-test",
      "    static_configs:",
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(", ")}]`,
      "",
    ].join("\n");
    writeFileSync(path.join(dir, "prometheus.yml"), config);
    const server = new PrivatePrometheus(port, dir);
    await server.spawn();
    return server;
  }

  private async spawn(): Promise<void> {
    const child = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${path.join(this.dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(this.dir, "data")}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        "--log.level=warn",
      ],
      { stdio: "ignore" },
    );
    this.child = child;
    const outcome = await waitUntil(
      async () => {
        try {
          return (await fetch(`${this.url}/-/ready`)).ok;
        } catch {
          return false;
        }
      },
      { timeoutMs: 30_000, stillAlive: () => child.exitCode === null && child.signalCode === null },
    );
    if (outcome !== "ready")
      throw new Error(`prometheus on ${this.port} did not start (${outcome})`);
  }

  /** Waits until every target has been scraped successfully at least once. */
  async waitForTargets(count: number, timeoutMs = 20_000): Promise<void> {
    const outcome = await waitUntil(
      async () => {
        const body = (await (await fetch(`${this.url}/api/v1/targets`)).json()) as {
          data: { activeTargets: { health: string }[] };
        };
        return body.data.activeTargets.filter((t) => t.health === "up").length >= count;
      },
      { timeoutMs },
    );
    if (outcome !== "ready") throw new Error(`prometheus: ${count} targets not up (${outcome})`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 26_000 + Math.floor(Math.random() * 3_000);
    if (await isPortFree(port, "127.0.0.1")) return port;
  }
  throw new Error("no free port for a test Prometheus");
}

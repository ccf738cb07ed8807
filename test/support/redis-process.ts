// redis-server processes a test owns (unlike the shared local stack), for tests that
// restart servers. Loopback only; killed when the test ends.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { isPortFree, runCommand } from "../../dev/stack/processes.js";
import { pingRedis, withRedis } from "../../dev/stack/services/redis-node.js";
import { waitUntil } from "../../dev/stack/wait.js";

const HOST = "127.0.0.1";

export class RedisProcess {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly extraArgs: string[] = [],
  ) {}

  async start(): Promise<void> {
    this.child = spawn(
      "redis-server",
      [
        "--bind",
        HOST,
        "--port",
        String(this.port),
        "--dir",
        this.dir,
        "--save",
        "",
        "--appendonly",
        "no",
        ...this.extraArgs,
      ],
      { stdio: "ignore", cwd: this.dir },
    );
    const child = this.child;
    const outcome = await waitUntil(() => pingRedis(HOST, this.port), {
      timeoutMs: 15_000,
      stillAlive: () => child.exitCode === null && child.signalCode === null,
    });
    if (outcome !== "ready")
      throw new Error(`redis-server on ${this.port} did not start (${outcome})`);
  }

  /** A crash, not a shutdown: the server loses its script cache and (without persistence) its data. */
  async kill(): Promise<void> {
    const child = this.child;
    // A killed process has a signalCode and no exitCode: either means it is gone.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }
}

/** Ports p and p + 10000 (the cluster bus) free, for `count` consecutive nodes. */
async function freePorts(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 21_000 + Math.floor(Math.random() * 4_000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(
      ports.flatMap((p) => [isPortFree(p, HOST), isPortFree(p + 10_000, HOST)]),
    );
    if (free.every(Boolean)) return ports;
  }
  throw new Error("no free ports for a test Redis");
}

export async function startStandalone(): Promise<{
  server: RedisProcess;
  url: string;
  stop: () => Promise<void>;
}> {
  const [port] = await freePorts(1);
  const dir = mkdtempSync(path.join(tmpdir(), "strata-redis-"));
  const server = new RedisProcess(port!, dir);
  await server.start();
  return {
    server,
    url: `redis://${HOST}:${port}`,
    stop: async () => {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A 3-master cluster whose nodes keep nodes.conf across restarts, so a restarted node rejoins.
 * `extraArgs` go to every node (e.g. `--cluster-require-full-coverage no`).
 */
export async function startCluster(extraArgs: string[] = []): Promise<{
  nodes: RedisProcess[];
  stop: () => Promise<void>;
  waitOk: () => Promise<void>;
}> {
  const ports = await freePorts(3);
  const nodes = ports.map((port) => {
    const dir = mkdtempSync(path.join(tmpdir(), `strata-cluster-${port}-`));
    return new RedisProcess(port, dir, [
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      "nodes.conf",
      "--cluster-node-timeout",
      "2000",
      ...extraArgs,
    ]);
  });
  await Promise.all(nodes.map((node) => node.start()));
  await runCommand(
    "redis-cli",
    [
      "--cluster",
      "create",
      ...ports.map((p) => `${HOST}:${p}`),
      "--cluster-replicas",
      "0",
      "--cluster-yes",
    ],
    "redis-cli --cluster create",
    60_000,
  );
  const waitOk = async () => {
    const outcome = await waitUntil(
      async () =>
        (await Promise.all(ports.map((p) => withRedis(HOST, p, (r) => r.cluster("INFO"))))).every(
          (info) => info.includes("cluster_state:ok"),
        ),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    if (outcome !== "ready") throw new Error("test cluster did not reach cluster_state:ok");
  };
  await waitOk();
  return {
    nodes,
    waitOk,
    stop: async () => {
      await Promise.all(nodes.map((node) => node.kill()));
      for (const node of nodes) rmSync(node.dir, { recursive: true, force: true });
    },
  };
}

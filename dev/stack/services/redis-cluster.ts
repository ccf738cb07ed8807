import { formatHostPort, LOCAL_PORTS, LOOPBACK, resolveEndpoints } from "../endpoints.js";
import { logFile } from "../paths.js";
import { runCommand } from "../processes.js";
import { StackError } from "../stack-error.js";
import { waitUntil } from "../wait.js";
import { RedisNode, withRedis } from "./redis-node.js";
import type { ServiceStatus, StackService, UpOutcome } from "./service.js";

const CLUSTER_OK_TIMEOUT_MS = 30_000;

/**
 * A Redis Cluster of three masters (no replicas) on 127.0.0.1:17001-17003, so that every
 * online-store test also runs where keys live in different slots on different nodes.
 */
export class RedisCluster implements StackService {
  readonly name = "cluster";
  private readonly nodes: RedisNode[];

  constructor(ports: readonly number[] = LOCAL_PORTS.cluster) {
    this.nodes = ports.map(
      (port) =>
        new RedisNode(`cluster-${port}`, port, [
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          "nodes.conf",
          "--cluster-node-timeout",
          "5000",
        ]),
    );
  }

  async up(log: (line: string) => void): Promise<UpOutcome> {
    if (resolveEndpoints().cluster.external) return "external";
    if (await this.allRunningAndFormed()) return "reused";
    // A partly running cluster cannot be patched with an empty node: start all three afresh.
    await this.down();
    await Promise.all(this.nodes.map((node) => node.start("REDIS_CLUSTER_NODES")));
    log(`cluster    creating a 3-master cluster with redis-cli --cluster create ...`);
    await runCommand(
      "redis-cli",
      [
        "--cluster",
        "create",
        ...this.nodes.map((node) => formatHostPort({ host: LOOPBACK, port: node.port })),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ],
      "redis-cli --cluster create",
      60_000,
    );
    const outcome = await waitUntil(() => this.formed(), {
      timeoutMs: CLUSTER_OK_TIMEOUT_MS,
      intervalMs: 250,
    });
    if (outcome !== "ready") {
      throw new StackError(
        `the Redis Cluster did not reach cluster_state:ok within ${CLUSTER_OK_TIMEOUT_MS / 1000}s`,
        `see the node logs: ${this.nodes.map((node) => logFile(node.name)).join(", ")}`,
      );
    }
    return "started";
  }

  async down(): Promise<boolean> {
    const stopped = await Promise.all(this.nodes.map((node) => node.stop()));
    return stopped.some(Boolean);
  }

  status(): ServiceStatus {
    const endpoint = resolveEndpoints().cluster;
    if (endpoint.external) {
      const address = endpoint.address.map(formatHostPort).join(",");
      return { name: this.name, state: "external", address, pids: [], source: endpoint.source };
    }
    const pids = this.nodes.map((node) => node.runningPid()).filter((pid) => pid !== undefined);
    const address = this.nodes
      .map((node) => formatHostPort({ host: LOOPBACK, port: node.port }))
      .join(",");
    return {
      name: this.name,
      state: pids.length === this.nodes.length ? "running" : "stopped",
      address,
      pids,
    };
  }

  private async allRunningAndFormed(): Promise<boolean> {
    if (this.nodes.some((node) => node.runningPid() === undefined)) return false;
    return (await waitUntil(() => this.formed(), { timeoutMs: 5_000 })) === "ready";
  }

  /** Every node reports cluster_state:ok and knows all three masters. */
  private async formed(): Promise<boolean> {
    const infos = await Promise.all(
      this.nodes.map((node) => withRedis(LOOPBACK, node.port, (r) => r.cluster("INFO"))),
    );
    return infos.every(
      (info) =>
        info.includes("cluster_state:ok") &&
        info.includes(`cluster_known_nodes:${this.nodes.length}`),
    );
  }
}
